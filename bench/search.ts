/**
 * End-to-end product search through the REST API: ingestion rate (CreateReferenceImage on
 * real photos and augmented copies of them), PRODUCT_SEARCH latency (p50/p95) with
 * transformed queries, and the memory the index holds per region (from /metrics). Queries
 * take the default path (no boundingPoly: detection, whole image, rotations, windows);
 * --whole-poly searches the whole image as one given region instead.
 * Usage: npm run bench:search [-- --products 60 --queries 60 --whole-poly --cpu-prof DIR]
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { devImagesDir } from '../test/support/dev-images';
import { startFakeGcs } from '../test/support/fake-gcs';
import { startBuiltServer } from './built-server';
import { photoVariant as variant, queryPhoto } from './photo-variant';
import { WHOLE_IMAGE_POLY } from './whole-image-poly';

const { values } = parseArgs({
  options: {
    products: { type: 'string', default: '60' },
    queries: { type: 'string', default: '60' },
    // Query with a whole-image boundingPoly (one region, no detection) instead of the default path.
    'whole-poly': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' }, // directory: the server writes a V8 CPU profile there
  },
});
const P = 'projects/bench/locations/eu';
const pct = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];

async function main() {
  const photos = readdirSync(devImagesDir())
    .filter((f) => /\.(jpg|png)$/.test(f))
    .sort();
  const gcs = await startFakeGcs();
  const server = await startBuiltServer({
    env: { STORAGE_EMULATOR_HOST: gcs.host },
    nodeArgs: values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [],
  });
  const url = `${server.url}/v1`;
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(url + p, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${method} ${p}: ${JSON.stringify(json).slice(0, 300)}`);
    return json;
  };
  const metric = async (name: string) => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
  };
  try {
    await call('POST', `/${P}/productSets?productSetId=s`, { displayName: 'S' });
    const n = Number(values.products);
    for (let i = 0; i < n; i++) gcs.put('b', `p${i}.jpg`, await variant(photos[i % photos.length], i));
    const ingest: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      await call('POST', `/${P}/products?productId=p${i}`, { displayName: `p${i}`, productCategory: 'general-v1' });
      const a = performance.now();
      await call('POST', `/${P}/products/p${i}/referenceImages`, { uri: `gs://b/p${i}.jpg` });
      ingest.push(performance.now() - a);
      await call('POST', `/${P}/productSets/s:addProduct`, { product: `${P}/products/p${i}` });
    }
    const catalogSeconds = (performance.now() - t0) / 1000;
    const regions = await metric('metapixel_index_regions');
    const bytes = await metric('metapixel_index_bytes');
    const lat: number[] = [];
    let hits = 0;
    const nq = Number(values.queries);
    for (let q = 0; q < nq; q++) {
      const i = q % n;
      const query = await queryPhoto(photos[i % photos.length], i);
      const a = performance.now();
      const res = (await call('POST', '/images:annotate', {
        requests: [
          {
            image: { content: query.toString('base64') },
            features: [{ type: 'PRODUCT_SEARCH', maxResults: 5 }],
            imageContext: {
              productSearchParams: {
                productSet: `${P}/productSets/s`,
                productCategories: ['general-v1'],
                ...(values['whole-poly'] ? { boundingPoly: WHOLE_IMAGE_POLY } : {}),
              },
            },
          },
        ],
      })) as { responses: { productSearchResults?: { results?: { product: { name: string } }[] } }[] };
      lat.push(performance.now() - a);
      if (res.responses[0].productSearchResults?.results?.[0]?.product.name.endsWith(`/p${i}`)) hits++;
    }
    ingest.sort((a, b) => a - b);
    lat.sort((a, b) => a - b);
    const row = {
      bench: 'search',
      products: n,
      regions,
      ingest_images_per_s: +(1000 / (ingest.reduce((s, x) => s + x, 0) / n)).toFixed(1),
      ingest_p50_ms: +pct(ingest, 50).toFixed(1),
      catalog_build_s: +catalogSeconds.toFixed(1),
      search_p50_ms: +pct(lat, 50).toFixed(1),
      search_p95_ms: +pct(lat, 95).toFixed(1),
      top1: `${hits}/${nq}`,
      index_bytes_per_region: regions ? Math.round(bytes / regions) : 0,
      node: process.version,
      cpus: os.cpus().length,
    };
    console.log('products regions  ingest img/s  ingest p50 ms  search p50 ms  search p95 ms  top-1   index bytes/region');
    console.log(
      `${String(n).padStart(8)} ${String(regions).padStart(8)} ${String(row.ingest_images_per_s).padStart(13)} ${String(row.ingest_p50_ms).padStart(14)} ${String(row.search_p50_ms).padStart(14)} ${String(row.search_p95_ms).padStart(14)} ${row.top1.padStart(7)} ${String(row.index_bytes_per_region).padStart(20)}`,
    );
    console.log(JSON.stringify(row));
  } finally {
    await server.stop();
    await gcs.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
