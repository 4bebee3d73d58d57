/**
 * What a set's switch to coarse lists (METAPIXEL_COARSE_LISTS_FROM) costs the process that
 * serves it, in this process, on the real ProductSetIndex: a set is grown by writes to one
 * product short of `from`, then written to every 20 ms (one product of 10 regions a write)
 * while the write that crosses `from` starts the background switch (docs/search.md, "Coarse
 * lists"), until the lists answer. Reports the crossing write's time, the writes' p50 and
 * maximum, the longest pause of the event loop (a 1 ms timer) and the seconds until the
 * lists took over, and the index's bytes a region then (its columns carry the room they grew by).
 *
 * Usage: npx tsx bench/engine-switch.ts [--regions 1000000]
 * Last line: one JSON object.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CompactEmbeddingCodec } from '../src/search/compact-embedding';
import { readItqParams } from '../src/search/hasher/itq-params';
import { ItqHasher, SeededRandom } from '../src/search/hasher';
import { ProductSetIndex } from '../src/search/product-set-index';
import { median } from '../src/core/stats';

const { values: opt } = parseArgs({ options: { regions: { type: 'string', default: '1000000' } } });
const FROM = Number(opt.regions);
const REGIONS_PER_PRODUCT = 10;
const WRITE_EVERY_MS = 20;
const spread = (j: number) => 0.12 / Math.sqrt(1 + j / 6);
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const models = path.resolve(__dirname, '..', 'models', 'hashing');
  const basis = await readItqParams(models, 256);
  const params = await readItqParams(models, 128);
  const codec = new CompactEmbeddingCodec(basis, [params]);
  const index = new ProductSetIndex(new ItqHasher(params), codec, FROM, { from: FROM, probeShare: 0.125 });

  // Products of 10 regions around a centre, 50 products a cluster (as bench/coarse-lists.ts).
  const rng = new SeededRandom(7);
  const clusters = Array.from({ length: Math.ceil(FROM / REGIONS_PER_PRODUCT / 50) + 100 }, () =>
    Float32Array.from({ length: 256 }, (_, j) => spread(j) * rng.gaussian()),
  );
  let next = 0;
  const put = () => {
    const base = clusters[Math.floor(next / 50) % clusters.length];
    const centre = base.map((v, j) => v + spread(j) * 0.6 * rng.gaussian());
    const regions = Array.from({ length: REGIONS_PER_PRODUCT }, () => centre.map((v, j) => v + spread(j) * 0.5 * rng.gaussian()));
    index.upsertProduct(
      { project: 'b', location: 'l', id: `p${next++}`, displayName: '', description: '', productCategory: 'general-v1', labels: [] },
      regions.map((y) => ({ imageId: 'r0', source: 'whole-image' as const, compact: codec.quantize(y, 0.55, Math.hypot(...y), 0.55) })),
    );
  };
  while ((next + 1) * REGIONS_PER_PRODUCT < FROM) put();
  console.error(`grown by writes to ${index.size} regions (${index.engineName})`);

  let last = performance.now();
  let longestPause = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestPause = Math.max(longestPause, now - last);
    last = now;
  }, 1);
  const writes: number[] = [];
  const start = performance.now();
  while (index.engineName !== 'lists') {
    const t = performance.now();
    put();
    writes.push(performance.now() - t);
    await new Promise((resolve) => setTimeout(resolve, WRITE_EVERY_MS));
  }
  const switchedS = (performance.now() - start) / 1000;
  clearInterval(timer);
  console.log(
    JSON.stringify({
      bench: 'engine-switch',
      regions: index.size,
      crossing_write_ms: round(writes[0], 2),
      writes: writes.length,
      write_p50_ms: round(median(writes), 2),
      write_max_ms: round(Math.max(...writes)),
      longest_loop_pause_ms: round(longestPause),
      switched_s: round(switchedS),
      index_bytes_per_region: round(index.memoryBytes / index.size),
    }),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
