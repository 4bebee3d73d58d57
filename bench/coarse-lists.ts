/**
 * What coarse lists (METAPIXEL_COARSE_LISTS_FROM, src/search/coarse-lists.ts) cost in
 * finding and save in time, in this process, on the real ProductSetIndex: one index
 * scanned exactly and one with coarse lists per probe share, over the same synthetic
 * regions (as bench/scale.ts draws them in the 256-d PCA space: products of 10 regions
 * around a centre, 50 products a cluster).
 *
 * - Finding: single-region queries drawn around a catalog product's centre (noise
 *   `--noise` of the spread, against the regions' own 0.5): how often that product is
 *   first and in the top 10, exact and through the lists.
 * - Time: queries of 30 regions (the default PRODUCT_SEARCH path; the others random
 *   windows), with the contrast and local scaling PRODUCT_SEARCH uses; p50 ms.
 *
 * Usage: npx tsx bench/coarse-lists.ts [--regions 1000000] [--shares 0.125,0.25] [--queries 400] [--noise 0.5]
 * Last line: one JSON object.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { CompactEmbeddingCodec } from '../src/search/compact-embedding';
import { readItqParams } from '../src/search/hasher/itq-params';
import { ItqHasher, SeededRandom } from '../src/search/hasher';
import { ProductSetIndex, type CoarseListSettings, type QueryVector } from '../src/search/product-set-index';
import { LOCAL_SCALING } from '../src/annotate/product-search';
import { defaultPathContrast, defaultPathRegion } from './default-path';
import { median } from '../src/core/stats';

const { values: opt } = parseArgs({
  options: {
    regions: { type: 'string', default: '1000000' },
    shares: { type: 'string', default: '0.125,0.25' },
    queries: { type: 'string', default: '400' },
    noise: { type: 'string', default: '0.5' },
  },
});
const N = Number(opt.regions);
const QUERIES = Number(opt.queries);
const NOISE = Number(opt.noise);
const REGIONS = 30;
const EVERY = { key: 'every product', accept: () => true };
const spread = (j: number) => 0.12 / Math.sqrt(1 + j / 6);

async function main(): Promise<void> {
  const models = path.resolve(__dirname, '..', 'models', 'hashing');
  const basis = await readItqParams(models, 256);
  const params = await readItqParams(models, 128);
  const codec = new CompactEmbeddingCodec(basis, [params]);
  const hasher = new ItqHasher(params);

  // The catalog, drawn once: every index gets the same regions.
  const rng = new SeededRandom(7);
  const products = Math.ceil(N / 10);
  const clusters = Array.from({ length: Math.ceil(products / 50) }, () =>
    Float32Array.from({ length: 256 }, (_, j) => spread(j) * rng.gaussian()),
  );
  const centres: Float32Array[] = [];
  const regionsOf: Float32Array[][] = [];
  for (let p = 0; p < products; p++) {
    const base = clusters[Math.floor(p / 50) % clusters.length];
    const centre = base.map((v, j) => v + spread(j) * 0.6 * rng.gaussian());
    centres.push(centre);
    regionsOf.push(Array.from({ length: 10 }, () => centre.map((v, j) => v + spread(j) * 0.5 * rng.gaussian())));
  }
  const build = (coarse?: CoarseListSettings) => {
    const t = performance.now();
    const index = new ProductSetIndex(hasher, codec, N, coarse);
    regionsOf.forEach((ys, p) =>
      index.upsertProduct(
        { project: 'b', location: 'l', id: `p${p}`, displayName: '', description: '', productCategory: 'general-v1', labels: [] },
        ys.map((y) => ({ imageId: 'r0', source: 'whole-image' as const, compact: codec.quantize(y, 0.55, Math.hypot(...y), 0.55) })),
      ),
    );
    index.trim();
    return { index, seconds: (performance.now() - t) / 1000 };
  };

  // Queries as embeddings (the index projects them, as PRODUCT_SEARCH does).
  const qrng = new SeededRandom(99);
  const embed = (y: Float32Array) => {
    const n = basis.dims;
    const x = Float32Array.from(basis.mean);
    for (let j = 0; j < 256; j++) for (let i = 0; i < n; i++) x[i] += basis.rows[j * n + i] * y[j];
    const len = Math.hypot(...x);
    return x.map((v) => v / len);
  };
  const around = (centre: Float32Array | undefined, noise: number) =>
    embed(
      Float32Array.from(
        { length: 256 },
        (_, j) => (centre ? centre[j] : spread(j) * qrng.gaussian()) + spread(j) * noise * qrng.gaussian(),
      ),
    );
  const sources = Array.from({ length: QUERIES }, () => qrng.int(products));
  const single = sources.map((p) => [{ embedding: around(centres[p], NOISE), penalty: 0 }]);
  const wide: QueryVector[][] = Array.from({ length: 40 }, (_, i) =>
    Array.from({ length: REGIONS }, (_, r) =>
      defaultPathRegion(r, around(r === 0 ? centres[sources[i]] : undefined, r === 0 ? NOISE : 0.5)),
    ),
  );
  const contrast = defaultPathContrast(REGIONS);

  const measure = (label: string, coarse?: CoarseListSettings) => {
    const { index, seconds } = build(coarse);
    let first = 0;
    let top10 = 0;
    single.forEach((q, i) => {
      const ids = index.searchProducts(q, 10, EVERY).map((h) => h.region.productId);
      if (ids[0] === `p${sources[i]}`) first++;
      if (ids.includes(`p${sources[i]}`)) top10++;
    });
    const ms: number[] = [];
    for (let rep = 0; rep < 2; rep++)
      for (const q of wide) {
        const t = performance.now();
        index.searchProducts(q, 10, EVERY, contrast, LOCAL_SCALING);
        if (rep) ms.push(performance.now() - t);
      }
    const row = {
      label,
      engine: index.engineName,
      build_s: Math.round(seconds * 10) / 10,
      r1: first / QUERIES,
      r10: top10 / QUERIES,
      index_30_regions_p50_ms: Math.round(median(ms) * 100) / 100,
    };
    console.error(JSON.stringify(row));
    return row;
  };

  const rows = [measure('exact')];
  for (const share of opt.shares.split(',').map(Number)) rows.push(measure(`share ${share}`, { from: 1, probeShare: share }));
  console.log(JSON.stringify({ bench: 'coarse-lists', regions: N, queries: QUERIES, noise: NOISE, rows }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
