/**
 * The one typed, validated settings tree. Sources in order: defaults, then a JSON file
 * named by METAPIXEL_CONFIG_FILE, then environment variables. Standard names (PORT,
 * GRPC_PORT, MONGODB_URI, STORAGE_EMULATOR_HOST) are read as they are; the rest are
 * METAPIXEL_*. Nothing else in the code base reads process.env. The table of settings is
 * in README.md.
 */
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';

export interface Config {
  host: string;
  port: number;
  grpcPort: number;
  mongodbUri: string;
  dataDir: string;
  storageEmulatorHost: string;
  apiKeys: string;
  bearerTokens: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  maxRequestBytes: number;
  httpHeadersTimeoutMs: number;
  httpRequestTimeoutMs: number;
  httpMaxConnections: number;
  httpKeepAliveTimeoutMs: number;
  grpcMaxConcurrentStreams: number;
  grpcIdleTimeoutMs: number;
  maxSetsPerProduct: number;
  jobConcurrency: number;
  jobLeaseMs: number;
  jobPollMs: number;
  importConcurrency: number;
  shutdownGraceMs: number;
  maxImagesPerRequest: number;
  maxFeaturesPerImage: number;
  maxRegionsPerImage: number;
  maxImagesInFlightPerProject: number;
  maxImageBytes: number;
  maxImagePixels: number;
  maxDecodedImageSide: number;
  minImageSide: number;
  fetchTimeoutMs: number;
  fetchMaxRedirects: number;
  urlAllowList: string;
  corsOrigins: string;
  metricsKey: string;
  metricsPerSet: boolean;
  allowedHosts: string;
  console: 'auto' | 'on' | 'off';
  consoleStaging: string;
  gcsDir: string;
  gcsBuckets: string;
  gcsEndpoint: string;
  gcsKeyFile: string;
  defaultProject: string;
  modelsDir: string;
  onnxThreads: number;
  inferenceQueue: number;
  inferenceConcurrency: number;
  inferenceWorkers: number;
  detectMirror: 'always' | 'unsure' | 'never';
  minObjectScore: number;
  defaultMaxResults: number;
  indexPollMs: number;
  indexSnapshotDir: string;
  indexSnapshotSeconds: number;
  indexChangeRetentionHours: number;
  indexShard: string;
  codeBits: number;
  rerankDims: number;
  rerankBits: 8 | 4;
  rerank4BitFrom: number;
  coarseListsFrom: number;
  coarseProbeShare: number;
}

/** setting -> [environment variable, default, JSON schema]. */
const SETTINGS: { [K in keyof Config]: [string, Config[K], object] } = {
  host: ['METAPIXEL_HOST', '0.0.0.0', { type: 'string', minLength: 1 }],
  port: ['PORT', 8080, { type: 'integer', minimum: 0, maximum: 65535 }],
  grpcPort: ['GRPC_PORT', 50051, { type: 'integer', minimum: 0, maximum: 65535 }],
  mongodbUri: ['MONGODB_URI', '', { type: 'string' }],
  dataDir: ['METAPIXEL_DATA_DIR', './data', { type: 'string', minLength: 1 }],
  storageEmulatorHost: ['STORAGE_EMULATOR_HOST', '', { type: 'string' }],
  apiKeys: ['METAPIXEL_API_KEYS', '', { type: 'string' }],
  bearerTokens: ['METAPIXEL_BEARER_TOKENS', '', { type: 'string' }],
  logLevel: ['METAPIXEL_LOG_LEVEL', 'info', { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }],
  maxRequestBytes: ['METAPIXEL_MAX_REQUEST_BYTES', 10 * 1024 * 1024, { type: 'integer', minimum: 1024 }],
  httpHeadersTimeoutMs: ['METAPIXEL_HTTP_HEADERS_TIMEOUT_MS', 10000, { type: 'integer', minimum: 100 }],
  httpRequestTimeoutMs: ['METAPIXEL_HTTP_REQUEST_TIMEOUT_MS', 60000, { type: 'integer', minimum: 100 }],
  httpMaxConnections: ['METAPIXEL_HTTP_MAX_CONNECTIONS', 1024, { type: 'integer', minimum: 1 }],
  httpKeepAliveTimeoutMs: ['METAPIXEL_HTTP_KEEP_ALIVE_TIMEOUT_MS', 65000, { type: 'integer', minimum: 1000 }],
  grpcMaxConcurrentStreams: ['METAPIXEL_GRPC_MAX_CONCURRENT_STREAMS', 100, { type: 'integer', minimum: 1 }],
  grpcIdleTimeoutMs: ['METAPIXEL_GRPC_IDLE_TIMEOUT_MS', 300000, { type: 'integer', minimum: 1000 }],
  maxSetsPerProduct: ['METAPIXEL_MAX_SETS_PER_PRODUCT', 100, { type: 'integer', minimum: 1 }],
  jobConcurrency: ['METAPIXEL_JOB_CONCURRENCY', 2, { type: 'integer', minimum: 1, maximum: 64 }],
  jobLeaseMs: ['METAPIXEL_JOB_LEASE_MS', 30000, { type: 'integer', minimum: 500 }],
  jobPollMs: ['METAPIXEL_JOB_POLL_MS', 1000, { type: 'integer', minimum: 50 }],
  importConcurrency: ['METAPIXEL_IMPORT_CONCURRENCY', 8, { type: 'integer', minimum: 1, maximum: 256 }],
  shutdownGraceMs: ['METAPIXEL_SHUTDOWN_GRACE_MS', 25000, { type: 'integer', minimum: 0 }],
  maxImagesPerRequest: ['METAPIXEL_MAX_IMAGES_PER_REQUEST', 16, { type: 'integer', minimum: 1 }],
  maxFeaturesPerImage: ['METAPIXEL_MAX_FEATURES_PER_IMAGE', 32, { type: 'integer', minimum: 1 }],
  // Every region counted: a query's whole image, quarter turns, objects, inset and windows
  // (59 at most by default); a reference image's whole image, thumbnail and objects (11).
  maxRegionsPerImage: ['METAPIXEL_MAX_REGIONS_PER_IMAGE', 64, { type: 'integer', minimum: 1, maximum: 1024 }],
  maxImagesInFlightPerProject: ['METAPIXEL_PROJECT_IMAGE_CONCURRENCY', 64, { type: 'integer', minimum: 1 }],
  maxImageBytes: ['METAPIXEL_MAX_IMAGE_BYTES', 20 * 1024 * 1024, { type: 'integer', minimum: 1024 }],
  maxImagePixels: ['METAPIXEL_MAX_IMAGE_PIXELS', 100_000_000, { type: 'integer', minimum: 1 }],
  maxDecodedImageSide: ['METAPIXEL_MAX_DECODED_SIDE', 1024, { type: 'integer', minimum: 64 }],
  minImageSide: ['METAPIXEL_MIN_IMAGE_SIDE', 16, { type: 'integer', minimum: 1 }],
  fetchTimeoutMs: ['METAPIXEL_FETCH_TIMEOUT_MS', 10000, { type: 'integer', minimum: 100 }],
  fetchMaxRedirects: ['METAPIXEL_FETCH_MAX_REDIRECTS', 3, { type: 'integer', minimum: 0 }],
  urlAllowList: ['METAPIXEL_URL_ALLOWLIST', '', { type: 'string' }],
  corsOrigins: ['METAPIXEL_CORS_ORIGINS', '', { type: 'string' }],
  metricsKey: ['METAPIXEL_METRICS_KEY', '', { type: 'string' }],
  metricsPerSet: ['METAPIXEL_METRICS_PER_SET', false, { type: 'boolean' }],
  allowedHosts: ['METAPIXEL_ALLOWED_HOSTS', '', { type: 'string' }],
  // 'auto' = on when METAPIXEL_HOST is a loopback address or localhost (consoleEnabled).
  console: ['METAPIXEL_CONSOLE', 'auto', { enum: ['auto', 'on', 'off'] }],
  // Where the console offers to upload photos (a gs:// folder); '' = the user types one.
  consoleStaging: ['METAPIXEL_CONSOLE_STAGING', '', { type: 'string', pattern: '^(|gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]/.*)$' }],
  gcsDir: ['METAPIXEL_GCS_DIR', '', { type: 'string' }],
  gcsBuckets: ['METAPIXEL_GCS_BUCKETS', '', { type: 'string' }],
  // '' = Google's (https://storage.googleapis.com); ignored when STORAGE_EMULATOR_HOST is set.
  gcsEndpoint: ['METAPIXEL_GCS_ENDPOINT', '', { type: 'string', pattern: '^(|https?://.+)$' }],
  // '' = Application Default Credentials.
  gcsKeyFile: ['METAPIXEL_GCS_KEY_FILE', '', { type: 'string' }],
  defaultProject: ['METAPIXEL_DEFAULT_PROJECT', 'default', { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }],
  modelsDir: ['METAPIXEL_MODELS_DIR', '', { type: 'string' }],
  onnxThreads: ['METAPIXEL_ONNX_THREADS', 1, { type: 'integer', minimum: 1, maximum: 64 }],
  inferenceQueue: ['METAPIXEL_INFERENCE_QUEUE', 32, { type: 'integer', minimum: 1 }],
  inferenceConcurrency: ['METAPIXEL_INFERENCE_CONCURRENCY', 2, { type: 'integer', minimum: 1, maximum: 64 }],
  inferenceWorkers: ['METAPIXEL_INFERENCE_WORKERS', 2, { type: 'integer', minimum: 0, maximum: 64 }],
  detectMirror: ['METAPIXEL_DETECT_MIRROR', 'unsure', { enum: ['always', 'unsure', 'never'] }],
  minObjectScore: ['METAPIXEL_MIN_OBJECT_SCORE', 0.5, { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 }],
  defaultMaxResults: ['METAPIXEL_DEFAULT_MAX_RESULTS', 10, { type: 'integer', minimum: 1 }],
  indexPollMs: ['METAPIXEL_INDEX_POLL_MS', 1000, { type: 'integer', minimum: 50 }],
  // '' = <data dir>/index-snapshots; 'off' = no snapshots.
  indexSnapshotDir: ['METAPIXEL_INDEX_SNAPSHOT_DIR', '', { type: 'string' }],
  indexSnapshotSeconds: ['METAPIXEL_INDEX_SNAPSHOT_SECONDS', 60, { type: 'integer', minimum: 0 }],
  indexChangeRetentionHours: ['METAPIXEL_INDEX_CHANGE_RETENTION_HOURS', 168, { type: 'integer', minimum: 1 }],
  // '' = every product set; 'k/N' = only the sets of shard k of N (docs/deployment.md).
  indexShard: ['METAPIXEL_INDEX_SHARD', '', { type: 'string', pattern: '^(|\\d+/\\d+)$' }],
  codeBits: ['METAPIXEL_CODE_BITS', 128, { type: 'integer', enum: [64, 128, 256] }],
  rerankDims: ['METAPIXEL_RERANK_DIMS', 256, { type: 'integer', enum: [64, 128, 192, 256] }],
  rerankBits: ['METAPIXEL_RERANK_BITS', 8, { type: 'integer', enum: [8, 4] }],
  // Regions from which a set's re-rank rows take 4 bits though METAPIXEL_RERANK_BITS is 8 (0 = never).
  rerank4BitFrom: ['METAPIXEL_RERANK_4BIT_FROM', 500_000, { type: 'integer', minimum: 0 }],
  // Regions from which a set is searched through coarse lists (0 = never; docs/search.md).
  coarseListsFrom: ['METAPIXEL_COARSE_LISTS_FROM', 1_000_000, { type: 'integer', minimum: 0 }],
  coarseProbeShare: ['METAPIXEL_COARSE_PROBE_SHARE', 0.125, { type: 'number', exclusiveMinimum: 0, maximum: 1 }],
};

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(Object.entries(SETTINGS).map(([k, [, , s]]) => [k, s])),
};

/** The JSON schema of each setting, for tests (the Helm chart's values.schema.json repeats them). */
export const SETTING_SCHEMAS: Record<keyof Config, object> = Object.fromEntries(
  Object.entries(SETTINGS).map(([k, [, , s]]) => [k, s]),
) as Record<keyof Config, object>;

/** The environment variable that sets each setting, for documentation and tests. */
export const ENV_NAMES: Record<keyof Config, string> = Object.fromEntries(Object.entries(SETTINGS).map(([k, [env]]) => [k, env])) as Record<
  keyof Config,
  string
>;

export const DEFAULTS: Config = Object.fromEntries(Object.entries(SETTINGS).map(([k, [, d]]) => [k, d])) as unknown as Config;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const merged: Record<string, unknown> = { ...DEFAULTS };
  const file = env.METAPIXEL_CONFIG_FILE;
  if (file) Object.assign(merged, JSON.parse(readFileSync(file, 'utf8')) as object);
  for (const [key, [name]] of Object.entries(SETTINGS)) {
    if (env[name] !== undefined && env[name] !== '') merged[key] = env[name];
  }
  const ajv = new Ajv({ coerceTypes: true, allErrors: true });
  const validate = ajv.compile(schema);
  if (!validate(merged)) {
    const problems = (validate.errors ?? []).map((e) => {
      const key = e.instancePath.slice(1) as keyof Config;
      return `${SETTINGS[key]?.[0] ?? (key || 'config')} ${e.message}`;
    });
    throw new Error(`Invalid configuration: ${problems.join('; ')}`);
  }
  const config = merged as unknown as Config;
  // A region's code is the signs of its re-rank vector's leading entries (not held twice,
  // and what index snapshots rely on), so the vector must be at least as long as the code.
  if (config.rerankDims < config.codeBits)
    throw new Error(
      `Invalid configuration: METAPIXEL_RERANK_DIMS (${config.rerankDims}) must be at least METAPIXEL_CODE_BITS (${config.codeBits})`,
    );
  return Object.freeze(config);
}
