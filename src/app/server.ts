/**
 * The composition root: builds every component from the config through constructors,
 * starts REST and gRPC, and closes everything in reverse order. No other module holds
 * process-wide state.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import pino, { type Logger } from 'pino';
import { Authenticator, parseGrants } from '../core/auth';
import type { Config } from '../config/config';
import { CatalogService } from '../catalog/catalog-service';
import { openStore } from '../store/open-store';
import type { Stores } from '../store/stores';
import { OperationsService } from '../jobs/operations-service';
import { JobRunner } from '../jobs/job-runner';
import { PurgeProductsJob, PurgeProductsService } from '../jobs/purge-products';
import { ImportJob } from '../jobs/import/import-job';
import { ImportService } from '../jobs/import/import-service';
import { assembleImportResponse, IMPORT_KIND } from '../jobs/import/import-format';
import { GcsTextSource } from '../jobs/import/csv-source';
import { LineImporter } from '../jobs/import/line-importer';
import { ProgressService } from '../jobs/progress';
import { CallRunner } from '../api/call';
import { IMAGE_ANNOTATOR, IMAGE_ENCODER, JOBS, MATCH_EXPLAINER, MethodTable, OPERATIONS, PRODUCT_SEARCH } from '../api/method-table';
import { MatchExplainer } from '../annotate/match-explainer';
import { loadGrpcDefinition, loadRoot, lookupType } from '../api/proto/load';
import { toJson } from '../api/proto/json-codec';
import { buildRoutes } from '../api/rest/http-rules';
import { createRestApp } from '../api/rest/app';
import { healthRouter } from '../api/rest/health';
import { discoveryRouter } from '../api/rest/discovery';
import { consoleEnabled, consoleRouter } from '../api/rest/console';
import { storageMediaRouter } from '../api/rest/storage-media';
import { StagingMedia } from '../catalog/staging-media';
import { bindGrpc, createGrpcServer } from '../api/grpc/server';
import { Metrics, type IndexCounters, type QueueLoad } from '../api/metrics';
import path from 'node:path';
import { AnnotateService } from '../annotate/annotate-service';
import { AsyncAnnotateJob, AsyncAnnotateService } from '../jobs/async-annotate';
import { GcsWriter } from '../images/gcs-writer';
import { buildEncodeService, buildImagePipeline } from './image-pipeline';
import { ReferenceImageIngestor } from '../catalog/ingestor';
import { CatalogIndex, parseIndexShard } from '../search/catalog-index';
import { ProductSearch } from '../annotate/product-search';
import { lockDataDir, StartupError, type DataDirLock } from '../core/data-dir-lock';
import { addBetaVersions, BETA_SERVICES } from '../api/versions';

export interface RunningServer {
  restPort: number;
  grpcPort: number;
  store: Stores;
  log: Logger;
  /** Stops accepting, lets in-flight calls finish (up to the grace period), closes all. */
  close(): Promise<void>;
}

/** The v1 services: their RPCs are bound to the services' methods (MethodTable.bind). */
export const V1_SERVICES = [PRODUCT_SEARCH, IMAGE_ANNOTATOR, OPERATIONS, IMAGE_ENCODER, JOBS, MATCH_EXPLAINER] as const;
/** Every service served over gRPC and REST: v1's and the betas mapped onto them (api/versions.ts). */
export const SERVED_SERVICES = [...V1_SERVICES, ...BETA_SERVICES];

/** API versions with a discovery document (GET /$discovery/rest?version=…). */
export const DISCOVERY_VERSIONS = ['v1', 'v1p3beta1', 'v1p4beta1'];

/** RPCs of the served services that this server answers UNIMPLEMENTED, and why. */
export const NOT_IMPLEMENTED = {
  [`${IMAGE_ANNOTATOR}/BatchAnnotateFiles`]: 'PDF, TIFF and GIF files are not supported; send images to BatchAnnotateImages.',
  [`${IMAGE_ANNOTATOR}/AsyncBatchAnnotateFiles`]: 'PDF, TIFF and GIF files are not supported; use AsyncBatchAnnotateImages.',
  [`${OPERATIONS}/WaitOperation`]: 'poll GetOperation instead.',
};

export async function startServer(config: Readonly<Config>, log: Logger = pino({ level: config.logLevel })): Promise<RunningServer> {
  const auth = new Authenticator(parseGrants(config.apiKeys), parseGrants(config.bearerTokens));
  if (auth.isOpen) log.warn('no API keys or bearer tokens configured: the server is open to every caller');

  // Ports in use and a data directory in use stop the start here, before any work is done.
  await probePort(config.port, config.host, 'REST', 'PORT');
  await probePort(config.grpcPort, config.host, 'gRPC', 'GRPC_PORT');
  // The embedded store has one writer: a second server on the same directory stops here.
  const lock = config.mongodbUri ? undefined : lockDataDir(config.dataDir);
  let store: Stores;
  try {
    store = await openStore({ mongodbUri: config.mongodbUri || undefined, dataDir: config.dataDir });
  } catch (e) {
    lock?.release();
    throw e;
  }
  log.info({ store: store.kind }, 'store opened');

  let queueLoad: () => QueueLoad[] = () => [];
  let indexSizes: () => { set: string; regions: number; bytes: number }[] = () => [];
  let indexCounters: () => IndexCounters = () => ({ rebuilds: 0, changesApplied: 0, projectionFallbacks: 0 });
  const metrics = new Metrics(
    () => queueLoad(),
    () => indexSizes(),
    () => indexCounters(),
    {
      key: config.metricsKey,
      required: !auth.isOpen,
      perSet: config.metricsPerSet,
    },
  );
  const pipeline = await buildImagePipeline(config, metrics.observeInference);
  const { vision, fetcher, decoder, hasher, rerankCodec, storedCodec, buckets, storage } = pipeline;
  log.info(config.gcsDir ? `gs:// is the directory ${config.gcsDir}` : `gs:// is Cloud Storage at ${storage.description}`);
  if (!buckets.partitioned && !auth.isOpen) {
    log.warn('METAPIXEL_GCS_BUCKETS is not set: every credential may read and write every gs:// bucket');
  }
  queueLoad = () => vision.load();
  log.info({ modelsDir: pipeline.modelsDir }, 'vision models loaded');
  const snapshots = lockSnapshotDir(indexSnapshotDir(config), log);
  const index = new CatalogIndex(store.catalog, store.indexFeed, hasher, rerankCodec, log, {
    pollMs: config.indexPollMs,
    snapshotDir: snapshots?.dir,
    snapshotEveryMs: config.indexSnapshotSeconds * 1000,
    changeRetentionMs: config.indexChangeRetentionHours * 3600_000,
    shard: parseIndexShard(config.indexShard),
    coarse: { from: config.coarseListsFrom, probeShare: config.coarseProbeShare },
    rerank: { fourBitFrom: config.rerank4BitFrom },
    onIndexed: metrics.observeIndexLag,
  });
  await index.start();
  indexCounters = () => ({ ...index.counters, projectionFallbacks: rerankCodec.batchFallbacks });
  indexSizes = () => index.sizes();
  log.info({ sets: index.sizes().length }, 'search index built');
  const ingestor = new ReferenceImageIngestor(
    fetcher,
    decoder,
    vision.objectDetector,
    vision.embedder,
    hasher,
    storedCodec,
    config.maxRegionsPerImage,
  );
  const catalog = new CatalogService(store.catalog, store.indexFeed, { maxSetsPerProduct: config.maxSetsPerProduct }, ingestor, index);
  const productSearch = new ProductSearch(index, vision.embedder, config.defaultMaxResults, config.maxRegionsPerImage);
  const annotator = new AnnotateService(
    fetcher,
    decoder,
    vision.objectDetector,
    {
      maxImagesPerRequest: config.maxImagesPerRequest,
      defaultMaxResults: config.defaultMaxResults,
      maxFeaturesPerImage: config.maxFeaturesPerImage,
      maxImagesInFlightPerProject: config.maxImagesInFlightPerProject,
    },
    log,
    { PRODUCT_SEARCH: productSearch.feature },
  );
  const encoder = buildEncodeService(pipeline, config, log);
  const gcsWriter = new GcsWriter({ storage, localDir: config.gcsDir, timeoutMs: config.fetchTimeoutMs, buckets });
  const batchResponseType = lookupType('google.cloud.vision.v1.BatchAnnotateImagesResponse');
  const asyncAnnotateJob = new AsyncAnnotateJob(annotator, gcsWriter, (msg) => JSON.stringify(toJson(batchResponseType, msg)), {
    concurrency: config.inferenceConcurrency * 2,
    retryDelaysMs: [250, 500, 1000, 2000, 4000],
  });
  let jobs: JobRunner | undefined;
  const operations = new OperationsService(store.operations, {
    onQueued: () => jobs?.wake(),
    onCancelRequested: (name) => jobs?.cancelLocal(name),
    assemblers: { [IMPORT_KIND]: (rec) => assembleImportResponse(store.operations, rec) },
  });
  const importJob = new ImportJob(
    store.operations,
    store.indexFeed,
    new GcsTextSource({ storage, localDir: config.gcsDir, timeoutMs: config.fetchTimeoutMs, buckets }),
    new LineImporter(store.catalog, ingestor, { maxSetsPerProduct: config.maxSetsPerProduct, attempts: 4, retryDelayMs: 250 }),
    index,
    { concurrency: config.importConcurrency, chunkLines: 50, flushMs: 2000, touchMs: 5000, maxLineBytes: 1024 * 1024 },
    log,
  );
  jobs = new JobRunner(
    store.operations,
    [new PurgeProductsJob(store.catalog, store.indexFeed, index), asyncAnnotateJob, importJob],
    { concurrency: config.jobConcurrency, leaseMs: config.jobLeaseMs, pollMs: config.jobPollMs },
    log,
  );

  const root = loadRoot();
  // The served services and the objects whose methods answer their RPCs (see MethodTable.bind).
  const services: Record<(typeof V1_SERVICES)[number], object[]> = {
    [PRODUCT_SEARCH]: [catalog, new PurgeProductsService(store.catalog, operations), new ImportService(operations)],
    [IMAGE_ANNOTATOR]: [annotator, new AsyncAnnotateService(operations, gcsWriter, config.defaultProject)],
    [OPERATIONS]: [operations],
    [IMAGE_ENCODER]: [encoder],
    [JOBS]: [new ProgressService(operations)],
    [MATCH_EXPLAINER]: [new MatchExplainer(store.catalog, fetcher, decoder, vision.embedder, rerankCodec)],
  };
  const methods = MethodTable.bind(root, services, NOT_IMPLEMENTED);
  addBetaVersions(methods, root);
  const runner = new CallRunner(methods, auth, log, metrics.observeCall);

  let draining = false;
  const routes = buildRoutes(loadRoot(), SERVED_SERVICES);
  const withConsole = consoleEnabled(config);
  const rest = createRestApp({
    routes,
    runner,
    maxBodyBytes: config.maxRequestBytes,
    browser: { corsOrigins: list(config.corsOrigins), allowedHosts: list(config.allowedHosts), sameOrigin: withConsole },
    log,
    extra: [
      healthRouter({ store: () => store.ping() }, () => draining),
      metrics.router(),
      discoveryRouter(loadRoot(), routes, DISCOVERY_VERSIONS),
      ...(withConsole
        ? [
            consoleRouter(undefined, { staging: config.consoleStaging }),
            storageMediaRouter(
              runner,
              new StagingMedia({ read: (uri, signal) => fetcher.fetchUri(uri, signal), writer: gcsWriter, maxBytes: config.maxImageBytes }),
              config.maxImageBytes,
            ),
          ]
        : []),
    ],
  });
  // Slow or idle clients cannot hold sockets: the headers, then the whole request (body
  // included), must arrive within their deadlines (checked every second), and connections
  // beyond the cap are refused.
  const httpServer = http.createServer(
    {
      headersTimeout: Math.min(config.httpHeadersTimeoutMs, config.httpRequestTimeoutMs),
      requestTimeout: config.httpRequestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, config.httpHeadersTimeoutMs),
    },
    rest,
  );
  httpServer.maxConnections = config.httpMaxConnections;
  // Longer than clients keep an idle connection (Node's agent 5 s, as Node's server
  // default was): the client closes first, so a request is never written onto a socket
  // the server is closing at that instant (a "socket hang up" at the client).
  httpServer.keepAliveTimeout = config.httpKeepAliveTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new StartupError(`REST port ${config.port} on ${config.host} is already in use (PORT).`) : e),
    );
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const grpcServer: grpc.Server = createGrpcServer({
    definition: loadGrpcDefinition(),
    services: SERVED_SERVICES,
    runner,
    maxMessageBytes: config.maxRequestBytes,
    maxConcurrentStreams: config.grpcMaxConcurrentStreams,
    idleTimeoutMs: config.grpcIdleTimeoutMs,
  });
  const grpcPort = await bindGrpc(grpcServer, config.host, config.grpcPort).catch((e: Error) => {
    throw /EADDRINUSE|address already in use/i.test(String(e.message))
      ? new StartupError(`gRPC port ${config.grpcPort} on ${config.host} is already in use (GRPC_PORT).`)
      : e;
  });
  jobs.start();
  const restPort = (httpServer.address() as AddressInfo).port;
  log.info(
    {
      restPort,
      grpcPort,
      console: withConsole ? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${restPort}/` : 'off',
    },
    'metapixel listening',
  );

  return {
    restPort,
    grpcPort,
    store,
    log,
    async close() {
      draining = true;
      await Promise.all([closeHttp(httpServer, config.shutdownGraceMs), closeGrpc(grpcServer, config.shutdownGraceMs)]);
      await jobs.close();
      await index.close();
      snapshots?.lock.release();
      await pipeline.close(); // the vision models and the query projection
      await store.close();
      lock?.release();
      log.info('metapixel stopped');
    },
  };
}

/**
 * The snapshot directory, locked for this process: two processes writing one directory
 * (two servers on MongoDB with one data dir) would mix their files. When another live
 * process holds it, this one runs without snapshots and says so.
 */
function lockSnapshotDir(dir: string | undefined, log: Logger): { dir: string; lock: DataDirLock } | undefined {
  if (!dir) return undefined;
  try {
    return { dir, lock: lockDataDir(dir) };
  } catch (e) {
    if (!(e instanceof StartupError)) throw e;
    log.warn({ dir }, `index snapshots off: ${e.message}`);
    return undefined;
  }
}

/** Where index snapshots go: METAPIXEL_INDEX_SNAPSHOT_DIR, by default under the data dir. */
function indexSnapshotDir(config: Readonly<Config>): string | undefined {
  if (config.indexSnapshotDir === 'off') return undefined;
  return config.indexSnapshotDir || path.join(config.dataDir, 'index-snapshots');
}

/** StartupError if `port` cannot be listened on now (0 picks a free port: nothing to check). */
async function probePort(port: number, host: string, what: string, setting: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new StartupError(`${what} port ${port} on ${host} is already in use (${setting}).`) : e),
    );
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** A comma-separated setting as a list. */
function list(setting: string): string[] {
  return setting
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Stops accepting; keep-alive connections are closed as soon as their call is answered. */
function closeHttp(server: http.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearTimeout(force);
      clearInterval(idle);
      resolve();
    });
    server.closeIdleConnections();
  });
}

function closeGrpc(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.forceShutdown(), graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
