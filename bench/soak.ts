/**
 * Soak: the built server (embedded store, fresh data directory) under 16 clients for N
 * minutes, through Google's own `@google-cloud/vision` clients (even clients gRPC, odd ones
 * REST). Each client loops over a mix of catalog writes (create a product with a reference
 * image from the repository's photos and add it to the set, update a product, delete one),
 * PRODUCT_SEARCH queries and OBJECT_LOCALIZATION annotations. The catalog stays bounded (each
 * client keeps at most KEEP products of its own, deleting its oldest), so memory that keeps
 * growing is a leak, not data. Prints every minute the calls by status, the server's RSS
 * and p50/p95 latency; at the end one JSON line.
 * Usage: npm run bench:soak -- --minutes 30 [--clients 16]
 */
import { Code } from '../src/core/errors';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { imageAnnotatorClient, productSearchClient, type Transport } from '../test/support/clients';
import { devImagesDir } from '../test/support/dev-images';
import { startFakeGcs } from '../test/support/fake-gcs';
import { startBuiltServer } from './built-server';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, clients: { type: 'string', default: '16' } } });
const MINUTES = Number(values.minutes);
const CLIENTS = Number(values.clients);
const PARENT = 'projects/soak/locations/us-west1';
const SET = `${PARENT}/productSets/s`;
/** Products each client keeps of its own: past this it deletes its oldest. */
const KEEP = 6;
const SEED_PRODUCTS = 24;

/** Google's status name of a client error, whichever transport. */
function statusOf(err: unknown): string {
  const e = err as { code?: number | string; message?: string };
  const named = /"status":\s*"([A-Z_]+)"/.exec(e.message ?? '');
  if (named) return named[1];
  if (typeof e.code === 'number' && Code[e.code] !== undefined) return Code[e.code];
  return `OTHER(${String(e.code ?? e.message?.slice(0, 60))})`;
}

/** A small deterministic generator (mulberry32), one per client. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The server's resident memory in MB (its inference workers are threads of it). */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

const pct = (s: number[], p: number) => (s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN);

class Tally {
  byCode: Record<string, number> = {};
  latencies: number[] = [];
  add(code: string, ms: number) {
    this.byCode[code] = (this.byCode[code] ?? 0) + 1;
    this.latencies.push(ms);
  }
}

async function main() {
  const photoFiles = readdirSync(devImagesDir())
    .filter((f) => /\.(jpg|png)$/.test(f))
    .sort();
  const photos = photoFiles.map((f) => readFileSync(path.join(devImagesDir(), f)));
  const gcs = await startFakeGcs();
  photoFiles.forEach((f, i) => gcs.put('photos', f, photos[i]));
  // A loaded machine (and nice) can make the models' start slow.
  const server = await startBuiltServer({ env: { STORAGE_EMULATOR_HOST: gcs.host }, readyTimeoutMs: 300_000 });
  const pid = server.child.pid!;
  const total = new Tally();
  let minute = new Tally();
  const call = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    const t0 = performance.now();
    try {
      const r = await fn();
      const ms = performance.now() - t0;
      total.add('OK', ms);
      minute.add('OK', ms);
      return r;
    } catch (e) {
      const ms = performance.now() - t0;
      const code = statusOf(e);
      total.add(code, ms);
      minute.add(code, ms);
      return undefined;
    }
  };

  const seedClient = productSearchClient(server, 'grpc');
  const addProduct = async (c: ReturnType<typeof productSearchClient>, id: string, photo: number) => {
    const created = await call(() =>
      c.createProduct({
        parent: PARENT,
        productId: id,
        product: { displayName: id, productCategory: 'general-v1', productLabels: [{ key: 'n', value: '0' }] },
      }),
    );
    if (!created) return false;
    await call(() =>
      c.createReferenceImage({
        parent: `${PARENT}/products/${id}`,
        referenceImage: { uri: `gs://photos/${photoFiles[photo % photoFiles.length]}` },
      }),
    );
    await call(() => c.addProductToProductSet({ name: SET, product: `${PARENT}/products/${id}` }));
    return true;
  };
  await seedClient.createProductSet({ parent: PARENT, productSetId: 's', productSet: { displayName: 'soak' } });
  for (let i = 0; i < SEED_PRODUCTS; i++) await addProduct(seedClient, `seed-${i}`, i);
  await seedClient.close();
  total.byCode = {};
  total.latencies = [];
  minute = new Tally();

  const started = Date.now();
  const end = started + MINUTES * 60_000;
  const rssByMinute: number[] = [];
  console.log(
    `soak: ${CLIENTS} clients for ${MINUTES} min against pid ${pid} (RSS ${rssMb(pid)} MB after seeding ${SEED_PRODUCTS} products)`,
  );
  const tick = () => {
    const m = minute;
    minute = new Tally();
    const rss = rssMb(pid);
    rssByMinute.push(rss);
    const lat = m.latencies.sort((a, b) => a - b);
    const codes = Object.entries(m.byCode)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    console.log(
      `minute ${rssByMinute.length}: ${lat.length} calls (${codes}); RSS ${rss} MB; p50 ${pct(lat, 50).toFixed(0)} ms, p95 ${pct(lat, 95).toFixed(0)} ms`,
    );
  };
  const ticker = setInterval(tick, 60_000);

  const worker = async (w: number) => {
    const transport: Transport = w % 2 === 0 ? 'grpc' : 'rest';
    const catalog = productSearchClient(server, transport);
    const annotator = imageAnnotatorClient(server, transport);
    const random = rng(w + 1);
    const own: string[] = [];
    let serial = 0;
    while (Date.now() < end) {
      const r = random();
      const photo = Math.floor(random() * photos.length);
      if (r < 0.12) {
        if (own.length >= KEEP) {
          const id = own.shift()!;
          await call(() => catalog.deleteProduct({ name: `${PARENT}/products/${id}` }));
        } else {
          const id = `c${w}-${serial++}`;
          if (await addProduct(catalog, id, photo)) own.push(id);
        }
      } else if (r < 0.2 && own.length) {
        const id = own[Math.floor(random() * own.length)];
        await call(() =>
          catalog.updateProduct({
            product: {
              name: `${PARENT}/products/${id}`,
              displayName: `${id} v${serial++}`,
              productLabels: [{ key: 'n', value: String(serial) }],
            },
            updateMask: { paths: ['display_name', 'product_labels'] },
          }),
        );
      } else if (r < 0.6) {
        await call(() =>
          annotator.batchAnnotateImages({
            requests: [
              {
                image: { content: photos[photo] },
                features: [{ type: 'PRODUCT_SEARCH' }],
                imageContext: { productSearchParams: { productSet: SET, productCategories: ['general-v1'] } },
              },
            ],
          }),
        );
      } else {
        await call(() =>
          annotator.batchAnnotateImages({ requests: [{ image: { content: photos[photo] }, features: [{ type: 'OBJECT_LOCALIZATION' }] }] }),
        );
      }
    }
    await catalog.close();
    await annotator.close();
  };
  try {
    await Promise.all(Array.from({ length: CLIENTS }, (_, w) => worker(w)));
    clearInterval(ticker);
    // The last minute's row, when its tick has not come yet (calls in flight at the end).
    if (rssByMinute.length < MINUTES) tick();
  } finally {
    clearInterval(ticker);
    await server.stop();
    await gcs.close();
  }
  const at5 = rssByMinute.length >= 5 ? rssByMinute[4] : undefined;
  const last = rssByMinute[rssByMinute.length - 1];
  const errors = Object.fromEntries(Object.entries(total.byCode).filter(([k]) => k !== 'OK'));
  const lat = total.latencies.sort((a, b) => a - b);
  console.log(`all: ${lat.length} calls, p50 ${pct(lat, 50).toFixed(0)} ms, p95 ${pct(lat, 95).toFixed(0)} ms`);
  console.log(
    JSON.stringify({
      bench: 'soak',
      minutes: MINUTES,
      clients: CLIENTS,
      requests: lat.length,
      errors_by_code: errors,
      rss_mb_by_minute: rssByMinute,
      // Fraction (0.05 = 5 %) from the end of minute 5 to the last minute; null under 6 minutes.
      rss_growth_5_to_end: at5 !== undefined && rssByMinute.length > 5 ? Number(((last - at5) / at5).toFixed(3)) : null,
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
