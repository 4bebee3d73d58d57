/**
 * The search index at catalog scale. Seeds N synthetic regions through the store port
 * (products of 10 regions on one reference image, two labels each, one product set; each
 * region's compact re-rank data and code from clustered vectors in the shipped PCA space,
 * the distribution the real projection produces for groups of similar photos), then
 * starts the built server on that store and measures, through the real client where a
 * client is involved:
 * - RSS of the server and bytes per region (RSS less that of the same server on an empty
 *   store, and the index's own typed-array bytes from /metrics): at readiness, and again
 *   after `--settle-s` seconds idle (each server, the empty one too, read alike);
 * - cold start to /readyz, from the store and from the snapshot the first run left;
 * - PRODUCT_SEARCH p50/p95 through @google-cloud/vision (inference included), and the
 *   index alone (in this process, on the same store, the same search code);
 * - AddProductToProductSet, UpdateProduct (labels) and CreateReferenceImage on the big set;
 * - how long until a second server on the same store sees a write.
 * Usage: npm run bench:scale -- --regions 100000 [--store embedded|mongo] [--rerank-bits 8|4] [--rerank-dims 256|192|128|64] [--settle-s 10] [--malloc fixed|glibc]
 * Last line: one JSON object (see README).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { imageAnnotatorClient, productSearchClient } from '../test/support/clients';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import { MongoStore } from '../src/store/mongo/mongo-store';
import { mongoDbName, SQLITE_FILE } from '../src/store/open-store';
import type { CatalogStore, RegionRecord } from '../src/store/catalog-store';
import type { Stores } from '../src/store/stores';
import { CompactEmbeddingCodec } from '../src/search/compact-embedding';
import { readItqParams } from '../src/search/hasher/itq-params';
import { OnnxProjection } from '../src/search/onnx-projection';
import { ItqHasher, SeededRandom } from '../src/search/hasher';
import { CatalogIndex } from '../src/search/catalog-index';
import { productChanges, recordIndexChanges } from '../src/catalog/catalog-service';
import { loadConfig } from '../src/config/config';
import { LOCAL_SCALING } from '../src/annotate/product-search';
import { defaultPathContrast, defaultPathRegion } from './default-path';
import { startJongodb } from '../test/support/jongodb';
import { devImagesDir } from '../test/support/dev-images';
import { startFakeGcs } from '../test/support/fake-gcs';
import { GLIBC_OWN_MALLOC, startBuiltServer, type BuiltServer } from './built-server';

const { values: opt } = parseArgs({
  options: {
    regions: { type: 'string', default: '100000' },
    store: { type: 'string', default: 'embedded' },
    queries: { type: 'string', default: '200' },
    writes: { type: 'string', default: '30' },
    // The server's METAPIXEL_RERANK_DIMS (the store is seeded with all 256 either way, as a
    // server writes them by default; a smaller setting cuts them as it reads).
    'rerank-dims': { type: 'string', default: process.env.METAPIXEL_RERANK_DIMS ?? '256' },
    'rerank-bits': { type: 'string', default: process.env.METAPIXEL_RERANK_BITS ?? '8' },
    // Seconds a started server idles before its settled RSS is read.
    'settle-s': { type: 'string', default: '10' },
    // fixed: glibc's malloc thresholds as `npm start` sets them; glibc: its own rule.
    malloc: { type: 'string', default: 'fixed' },
  },
});
const N = Number(opt.regions);
if (opt.malloc !== 'fixed' && opt.malloc !== 'glibc') throw new Error('--malloc is fixed or glibc');
const SETTLE_MS = Number(opt['settle-s']) * 1000;
const REGIONS_PER_PRODUCT = 10;
const PRODUCTS = Math.ceil(N / REGIONS_PER_PRODUCT);
const SCOPE = { project: 'scale', location: 'eu' };
const SET = 'big';
const PARENT = `projects/${SCOPE.project}/locations/${SCOPE.location}`;
const SET_NAME = `${PARENT}/productSets/${SET}`;
const CODE_BITS = 128;
const DEFAULT_PATH_REGIONS = 30;
/** A keyed filter, as PRODUCT_SEARCH passes one (its verdicts are kept by the index). */
const EVERY_PRODUCT = { key: 'every product', accept: () => true };
const MODELS = path.resolve(__dirname, '..', 'models', 'hashing');
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const log = (...a: unknown[]) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

async function main() {
  const basis = await readItqParams(MODELS, 256);
  const hashParams = await readItqParams(MODELS, CODE_BITS);
  const full = new CompactEmbeddingCodec(basis, [hashParams]);
  // As the server: a query's regions are projected in one onnxruntime run.
  const batch = await OnnxProjection.load(MODELS, basis);
  const codec = new CompactEmbeddingCodec(basis, [hashParams], {
    dims: Number(opt['rerank-dims']),
    columnBits: opt['rerank-bits'] === '4' ? 4 : 8,
    batch,
  });
  const hasher = new ItqHasher(hashParams);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-scale-'));
  const mongo = opt.store === 'mongo' ? await startJongodb() : undefined;
  const openSeedStore = async (): Promise<Stores> =>
    mongo ? MongoStore.connect(mongo.uri, mongoDbName(mongo.uri)) : SqliteStore.open(path.join(dataDir, SQLITE_FILE), { bulk: true });
  const gcs = await startFakeGcs();
  const env = {
    METAPIXEL_DATA_DIR: dataDir,
    METAPIXEL_CODE_BITS: String(CODE_BITS),
    METAPIXEL_RERANK_DIMS: String(codec.dims),
    METAPIXEL_RERANK_BITS: String(codec.columnBits),
    STORAGE_EMULATOR_HOST: gcs.host,
    ...(mongo ? { MONGODB_URI: mongo.uri } : {}),
    ...(opt.malloc === 'glibc' ? GLIBC_OWN_MALLOC : {}),
  };
  const servers: BuiltServer[] = [];
  try {
    // An empty server first: the RSS every region's bytes are counted above.
    let t = Date.now();
    const empty = await startBuiltServer({
      env: { ...env, METAPIXEL_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'metapixel-scale-empty-')), MONGODB_URI: '' },
    });
    const emptyStart = (Date.now() - t) / 1000;
    // Settled as the others are: the same idle time after readiness.
    await sleep(SETTLE_MS);
    const emptyRss = rssOf(empty);
    await empty.stop();

    const seedStart = Date.now();
    const store = await openSeedStore();
    const rng = new SeededRandom(7);
    await seed(store.catalog, full, rng, (done) => log(`seeded ${done} / ${PRODUCTS} products`));
    await store.close();
    const seedSeconds = (Date.now() - seedStart) / 1000;
    log(`seeded ${N} regions in ${round(seedSeconds)} s`);

    // Cold start from the store (no snapshot yet), then from the snapshot it leaves at close.
    t = Date.now();
    let a = await startBuiltServer({ env, readyTimeoutMs: 1800_000 });
    servers.push(a);
    const coldStart = (Date.now() - t) / 1000;
    const rssReady = rssOf(a);
    await sleep(SETTLE_MS);
    const rss = rssOf(a);
    const indexBytes = await metricSum(a, 'metapixel_index_bytes');
    const indexRegions = await metricSum(a, 'metapixel_index_regions');
    log(
      `cold start from the store ${round(coldStart)} s; RSS ${round(rssReady / 2 ** 20)} MiB at readiness, ${round(rss / 2 ** 20)} MiB ${opt['settle-s']} s later (empty ${round(emptyRss / 2 ** 20)} MiB); index ${indexRegions} regions, ${round(indexBytes / indexRegions)} B/region`,
    );
    await a.stop();
    servers.pop();
    t = Date.now();
    a = await startBuiltServer({ env, readyTimeoutMs: 1800_000 });
    servers.push(a);
    const coldStartSnapshot = (Date.now() - t) / 1000;
    const rssSnapshotReady = rssOf(a);
    await sleep(SETTLE_MS);
    const rssSnapshot = rssOf(a);
    log(
      `cold start from the snapshot ${round(coldStartSnapshot)} s; RSS ${round(rssSnapshotReady / 2 ** 20)} MiB at readiness, ${round(rssSnapshot / 2 ** 20)} MiB ${opt['settle-s']} s later`,
    );

    // PRODUCT_SEARCH through the real client, inference included.
    const photos = ['darknet_dog.jpg', 'skimage_coffee.png', 'darknet_horses.jpg'].map((f) => readFileSync(path.join(devImagesDir(), f)));
    const annotator = imageAnnotatorClient(a, 'grpc');
    const ps = productSearchClient(a, 'grpc');
    const searchMs: number[] = [];
    const nq = Math.min(Number(opt.queries), 60);
    for (let i = 0; i < nq + 3; i++) {
      const s = performance.now();
      const [res] = await annotator.productSearch!({
        image: { content: photos[i % photos.length] },
        imageContext: { productSearchParams: { productSet: SET_NAME, productCategories: ['general-v1'] } },
      });
      if (i >= 3) searchMs.push(performance.now() - s);
      if (!res.productSearchResults?.results?.length) throw new Error('product search found nothing on the big set');
    }
    log(`PRODUCT_SEARCH through the client: p50 ${round(pct(searchMs, 50))} ms, p95 ${round(pct(searchMs, 95))} ms`);

    // Writes on the big set: membership and labels (no inference), a reference image (with).
    gcs.put('photos', 'dog.jpg', photos[0]);
    const writeMs: number[] = [];
    const labelMs: number[] = [];
    const imageMs: number[] = [];
    const writes = Number(opt.writes);
    for (let i = 0; i < writes; i++) {
      const product = `${PARENT}/products/w${i}`;
      await ps.createProduct({ parent: PARENT, productId: `w${i}`, product: { displayName: `w${i}`, productCategory: 'general-v1' } });
      let s = performance.now();
      await ps.createReferenceImage({ parent: product, referenceImage: { uri: 'gs://photos/dog.jpg' } });
      imageMs.push(performance.now() - s);
      s = performance.now();
      await ps.addProductToProductSet({ name: SET_NAME, product });
      writeMs.push(performance.now() - s);
      s = performance.now();
      await ps.updateProduct({
        product: { name: product, productLabels: [{ key: 'color', value: 'red' }] },
        updateMask: { paths: ['product_labels'] },
      });
      labelMs.push(performance.now() - s);
    }
    log(
      `AddProductToProductSet p50 ${round(pct(writeMs, 50))} ms, UpdateProduct p50 ${round(pct(labelMs, 50))} ms, CreateReferenceImage p50 ${round(pct(imageMs, 50))} ms (client-side)`,
    );

    // A second replica on the same store: how long until it serves a write made on the first
    // (MongoDB only: the embedded store has one owner, and a second server refuses its data dir).
    let visible = NaN;
    if (mongo) {
      const b = await startBuiltServer({ env: { ...env, METAPIXEL_INDEX_SNAPSHOT_DIR: 'off' }, readyTimeoutMs: 1800_000 });
      servers.push(b);
      const onB = imageAnnotatorClient(b, 'grpc');
      const filter = 'color=blue';
      await ps.updateProduct({
        product: { name: `${PARENT}/products/w0`, productLabels: [{ key: 'color', value: 'blue' }] },
        updateMask: { paths: ['product_labels'] },
      });
      const written = Date.now();
      for (let i = 0; i < 200; i++) {
        const [res] = await onB.productSearch!({
          image: { content: photos[0] },
          imageContext: { productSearchParams: { productSet: SET_NAME, productCategories: ['general-v1'], filter } },
        });
        if (res.productSearchResults?.results?.some((r) => r.product?.name?.endsWith('/w0'))) {
          visible = (Date.now() - written) / 1000;
          break;
        }
      }
      log(`a write on one replica searchable on the other after ${round(visible, 2)} s`);
      await onB.close();
    }
    await Promise.all([annotator.close(), ps.close()]);
    for (const s of servers.splice(0)) await s.stop();

    // The index alone, in this process, on the same store: what a query costs past inference.
    const indexStore = mongo
      ? await MongoStore.connect(mongo.uri, mongoDbName(mongo.uri))
      : await SqliteStore.open(path.join(dataDir, SQLITE_FILE));
    // The server's coarse-list and 4-bit settings (METAPIXEL_COARSE_*, _RERANK_4BIT_FROM), as the built server above read them.
    const config = loadConfig({ ...process.env, ...env });
    const coarse = { from: config.coarseListsFrom, probeShare: config.coarseProbeShare };
    const index = new CatalogIndex(indexStore.catalog, indexStore.indexFeed, hasher, codec, pino({ level: 'warn' }), {
      pollMs: 3600_000,
      coarse,
      rerank: { fourBitFrom: config.rerank4BitFrom },
    });
    t = Date.now();
    await index.start();
    const inProcessBuild = (Date.now() - t) / 1000;
    const set = index.get(SCOPE, SET)!.index;
    const qrng = new SeededRandom(99);
    /** Index time of queries of `regions` regions: 1 is a query with a boundingPoly, about
     *  30 the default path (whole image, two quarter turns, 25 pooled windows, objects).
     *  A query of many regions is prepared as PRODUCT_SEARCH prepares it (its regions
     *  projected in one onnxruntime run), and that is timed with the search. */
    const prepareMs: number[] = [];
    const indexTime = async (regions: number, n: number, warmUp = 0, inThread = false) => {
      const ms: number[] = [];
      // Made first: making one (a JS loop over the basis per region, ~25 ms for 30) right
      // before it is timed would leave the caches and the heap to the generator.
      const queries = Array.from({ length: warmUp + n }, () =>
        Array.from({ length: regions }, (_, r) => defaultPathRegion(r, synthEmbedding(basis, full, qrng))),
      );
      for (let i = -warmUp; i < n; i++) {
        const query = queries[i + warmUp];
        const s = performance.now();
        // inThread: the baseline, the index projecting the regions in its WebAssembly kernel.
        const prepared = regions > 1 && !inThread ? await index.prepare(query.map((q) => q.embedding)) : undefined;
        if (prepared && i >= 0) prepareMs.push(performance.now() - s);
        set.searchProducts(
          query.map((q, r) => ({ ...q, prepared: prepared?.[r] })),
          10,
          EVERY_PRODUCT,
          defaultPathContrast(regions),
          LOCAL_SCALING,
        );
        if (i >= 0) ms.push(performance.now() - s);
      }
      return ms;
    };
    const indexMs = await indexTime(1, Number(opt.queries));
    // Timed in the steady state a serving process is in: the first ~100 queries after a
    // build ran 20-50 % slower (the many-region path compiling, the projection's session
    // warming; at 1 M regions, p50 of the first 50 5.98 ms, of the next three 50s 3.88-4.45,
    // 12-06), so as many queries as are timed go before them.
    const defaultPathMs = await indexTime(DEFAULT_PATH_REGIONS, Number(opt.queries), Number(opt.queries));
    const inThreadMs = await indexTime(DEFAULT_PATH_REGIONS, Number(opt.queries) / 2, Number(opt.queries) / 2, true);
    const projectionRatio = pct(inThreadMs, 50) / pct(defaultPathMs, 50);
    log(
      `index only: ${set.size} regions (${set.engineName}); one query region p50 ${round(pct(indexMs, 50), 2)} ms, p95 ${round(pct(indexMs, 95), 2)} ms; ${DEFAULT_PATH_REGIONS} regions p50 ${round(pct(defaultPathMs, 50), 2)} ms, p95 ${round(pct(defaultPathMs, 95), 2)} ms (their projection ${round(pct(prepareMs, 50), 2)}; projected in the WebAssembly kernel instead, same queries' kind, this run: ${round(pct(inThreadMs, 50), 2)} ms, ${round(projectionRatio, 2)}x)`,
    );
    // The index part of a cold start, in this process: from a snapshot of it.
    const snapDir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-scale-snap-'));
    const withSnapshots = new CatalogIndex(indexStore.catalog, indexStore.indexFeed, hasher, codec, pino({ level: 'warn' }), {
      coarse,
      pollMs: 3600_000,
      snapshotDir: snapDir,
    });
    await withSnapshots.start();
    t = Date.now();
    await withSnapshots.snapshot();
    const snapshotWrite = (Date.now() - t) / 1000;
    await withSnapshots.close();
    const loaded = new CatalogIndex(indexStore.catalog, indexStore.indexFeed, hasher, codec, pino({ level: 'warn' }), {
      coarse,
      pollMs: 3600_000,
      snapshotDir: snapDir,
    });
    t = Date.now();
    await loaded.start();
    const inProcessLoad = (Date.now() - t) / 1000;
    if (loaded.counters.rebuilds !== 0) throw new Error('the snapshot was not used');
    log(
      `index only, in this process: built from the store in ${round(inProcessBuild, 2)} s; snapshot written in ${round(snapshotWrite, 2)} s, loaded in ${round(inProcessLoad, 2)} s`,
    );
    await loaded.close();
    // A replica in this process on the same store, for both stores (the embedded store has
    // one owner process, so a second server cannot open it): an index started from the
    // snapshot that follows the feed at the server's poll interval, as another replica
    // does. A label change is written and recorded as the catalog service records it, and
    // timed until the follower's copy of the product carries it: the poll's wait plus
    // applying one change to a set of N regions, with no rebuild.
    const follower = new CatalogIndex(indexStore.catalog, indexStore.indexFeed, hasher, codec, pino({ level: 'warn' }), {
      coarse,
      pollMs: config.indexPollMs,
      snapshotDir: snapDir,
      rerank: { fourBitFrom: config.rerank4BitFrom },
    });
    await follower.start();
    // Five writes at random phases of the poll: the wait is up to one poll, plus the apply.
    const colourOf = (): string | undefined =>
      follower
        .get(SCOPE, SET)
        ?.index.product('w0')
        ?.labels.find((l) => l.key === 'color')?.value;
    const followMs: number[] = [];
    const followRng = new SeededRandom(7);
    for (let i = 0; i < 5; i++) {
      const colour = `shade${i}`;
      await sleep(followRng.int(config.indexPollMs));
      await indexStore.catalog.updateProduct({ ...SCOPE, product: 'w0' }, { labels: [{ key: 'color', value: colour }] }, new Date());
      await recordIndexChanges(indexStore.indexFeed, SCOPE, productChanges('w0', [SET]), new Date());
      const recorded = performance.now();
      while (colourOf() !== colour) {
        if (performance.now() - recorded > 60_000) throw new Error('the follower did not apply the write within 60 s');
        await sleep(2);
      }
      followMs.push(performance.now() - recorded);
    }
    if (follower.counters.rebuilds !== 0) throw new Error('the follower rebuilt the set');
    log(
      `writes recorded in the feed were applied by a second index in this process after ${followMs.map((x) => round(x / 1000, 2)).join(' / ')} s (poll every ${config.indexPollMs} ms, no rebuild)`,
    );
    await follower.close();
    rmSync(snapDir, { recursive: true, force: true });
    await index.close();
    await indexStore.close();

    const result = {
      bench: 'scale',
      store: mongo ? 'mongo' : 'embedded',
      regions: N,
      rerank_dims: codec.dims,
      rerank_bits: codec.columnBits,
      set_rerank_bits: set.rerankBits,
      engine: set.engineName,
      malloc: opt.malloc,
      rss_mb: round(rss / 2 ** 20),
      bytes_per_region: round((rss - emptyRss) / N),
      bytes_per_region_ready: round((rssReady - emptyRss) / N),
      rss_snapshot_mb: round(rssSnapshot / 2 ** 20),
      bytes_per_region_snapshot: round((rssSnapshot - emptyRss) / N),
      bytes_per_region_snapshot_ready: round((rssSnapshotReady - emptyRss) / N),
      index_bytes_per_region: round(indexBytes / indexRegions),
      empty_start_s: round(emptyStart, 2),
      cold_start_s: round(coldStart, 2),
      cold_start_snapshot_s: round(coldStartSnapshot, 2),
      index_build_s: round(inProcessBuild, 2),
      index_snapshot_load_s: round(inProcessLoad, 2),
      search_index_p50_ms: round(pct(indexMs, 50), 2),
      search_index_default_path_p50_ms: round(pct(defaultPathMs, 50), 2),
      search_index_default_path_p95_ms: round(pct(defaultPathMs, 95), 2),
      search_index_default_path_projection_p50_ms: round(pct(prepareMs, 50), 2),
      search_index_default_path_wasm_projection_p50_ms: round(pct(inThreadMs, 50), 2),
      search_p50_ms: round(pct(searchMs, 50)),
      search_p95_ms: round(pct(searchMs, 95)),
      write_p50_ms: round(pct(writeMs, 50)),
      label_write_p50_ms: round(pct(labelMs, 50)),
      reference_image_p50_ms: round(pct(imageMs, 50)),
      replica_visible_s: Number.isNaN(visible) ? null : round(visible, 2),
      replica_follow_in_process_s: round(pct(followMs, 50) / 1000, 2),
      replica_follow_in_process_max_s: round(Math.max(...followMs) / 1000, 2),
      seed_s: round(seedSeconds),
    };
    console.log(JSON.stringify(result));
  } finally {
    await batch.close();
    for (const s of servers) await s.stop().catch(() => undefined);
    await gcs.close();
    await mongo?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Product p's cluster centre (50 products a cluster) and its own offset, in PCA space. */
function productCentre(rng: SeededRandom, clusterCentres: Float32Array[], p: number): Float32Array {
  const base = clusterCentres[Math.floor(p / 50) % clusterCentres.length];
  return base.map((v, j) => v + spread(j) * 0.6 * rng.gaussian());
}

/** The spread of PCA component j: leading components carry most of the variance. */
const spread = (j: number) => 0.12 / Math.sqrt(1 + j / 6);

async function seed(store: CatalogStore, codec: CompactEmbeddingCodec, rng: SeededRandom, progress: (done: number) => void): Promise<void> {
  const now = new Date();
  await store.createProductSet({ ...SCOPE, id: SET, displayName: 'big', createTime: now, updateTime: now });
  const clusters = Array.from({ length: Math.ceil(PRODUCTS / 50) }, () =>
    Float32Array.from({ length: codec.dims }, (_, j) => spread(j) * rng.gaussian()),
  );
  const colors = ['red', 'blue', 'green', 'black', 'white', 'grey', 'brown', 'pink'];
  const concurrency = 16;
  let next = 0;
  let lastLog = Date.now();
  const worker = async () => {
    for (let p = next++; p < PRODUCTS; p = next++) {
      const id = `p${String(p).padStart(7, '0')}`;
      const centre = productCentre(rng, clusters, p);
      const regions: RegionRecord[] = [];
      const n = Math.min(REGIONS_PER_PRODUCT, N - p * REGIONS_PER_PRODUCT);
      for (let r = 0; r < n; r++) {
        const y = centre.map((v, j) => v + spread(j) * 0.5 * rng.gaussian());
        const norm = Math.hypot(...y);
        const compact = codec.quantize(y, 0.55 + 0.05 * rng.gaussian(), norm, 0.55);
        const code = new Uint8Array(CODE_BITS / 8);
        for (let j = 0; j < CODE_BITS; j++) if (y[j] > 0) code[j >> 3] |= 1 << (j & 7);
        regions.push({
          box: { x0: 0, y0: 0, x1: 100, y1: 100 },
          source: r === 0 ? 'whole-image' : r === 1 ? 'thumbnail' : 'detected',
          code,
          compact: codec.serialize(compact),
        });
      }
      await store.createProduct({
        ...SCOPE,
        id,
        displayName: id,
        description: '',
        productCategory: 'general-v1',
        labels: [
          { key: 'color', value: colors[p % colors.length] },
          { key: 'brand', value: `b${p % 100}` },
        ],
        createTime: now,
        updateTime: now,
      });
      await store.createReferenceImage({
        ...SCOPE,
        productId: id,
        id: 'r0',
        uri: `gs://bucket/${id}.jpg`,
        boundingPolys: [],
        createTime: now,
        state: 'READY',
        regions,
      });
      await store.addProductToSet({ ...SCOPE, productSet: SET }, id);
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        progress(next);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** A query embedding drawn as the seeded regions are, in the embedder's 1792-d space. */
function synthEmbedding(
  basis: { dims: number; mean: Float32Array; rows: Float32Array },
  codec: CompactEmbeddingCodec,
  rng: SeededRandom,
): Float32Array {
  const centre = Float32Array.from({ length: codec.dims }, (_, j) => spread(j) * rng.gaussian());
  const n = basis.dims;
  const x = Float32Array.from(basis.mean);
  for (let j = 0; j < codec.dims; j++) {
    const yj = centre[j] + spread(j) * 0.5 * rng.gaussian();
    for (let i = 0; i < n; i++) x[i] += basis.rows[j * n + i] * yj;
  }
  const len = Math.hypot(...x);
  return x.map((v) => v / len);
}

function rssOf(s: BuiltServer): number {
  const status = readFileSync(`/proc/${s.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function metricSum(s: BuiltServer, name: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  let sum = 0;
  // Per set (METAPIXEL_METRICS_PER_SET) or one total.
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.split(' ').pop());
  return sum;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
