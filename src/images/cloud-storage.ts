/**
 * Cloud Storage through `@google-cloud/storage`, in one of three modes:
 * - `STORAGE_EMULATOR_HOST`: an emulator, unauthenticated (the convention of Google's own
 *   clients); a bare host:port means http.
 * - `METAPIXEL_GCS_ENDPOINT`: another JSON API endpoint (a private gateway, tests), with
 *   credentials as for Google.
 * - otherwise Google Cloud Storage, with the service account key file
 *   `METAPIXEL_GCS_KEY_FILE` or Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS,
 *   gcloud's user credentials, the metadata server: workload identity on GKE).
 * Failures become the domain's errors here, once for every reader and writer.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { Storage, type File, type StorageOptions } from '@google-cloud/storage';
import {
  Code,
  deadlineExceeded,
  failedPrecondition,
  invalidArgument,
  isMetapixelError,
  MetapixelError,
  notFound,
  permissionDenied,
  unavailable,
} from '../core/errors';

export interface CloudStorageOptions {
  emulatorHost: string;
  endpoint: string;
  keyFile: string;
  /** Bounds the library's own retries of idempotent requests. */
  timeoutMs: number;
}

/** The Cloud Storage of the config's STORAGE_EMULATOR_HOST, METAPIXEL_GCS_ENDPOINT and METAPIXEL_GCS_KEY_FILE. */
export function cloudStorage(
  config: { storageEmulatorHost: string; gcsEndpoint: string; gcsKeyFile: string },
  timeoutMs: number,
): CloudStorage {
  return new CloudStorage({
    emulatorHost: config.storageEmulatorHost,
    endpoint: config.gcsEndpoint,
    keyFile: config.gcsKeyFile,
    timeoutMs,
  });
}

const SCOPES = ['https://www.googleapis.com/auth/devstorage.read_write'];
const GOOGLE_TOKEN_URLS = new Set(['https://oauth2.googleapis.com/token', 'https://www.googleapis.com/oauth2/v4/token']);

/** A bare host:port is http, as Google's clients and emulators take STORAGE_EMULATOR_HOST. */
export function emulatorEndpoint(host: string): string {
  return (/^https?:\/\//.test(host) ? host : `http://${host}`).replace(/\/+$/, '');
}

export class CloudStorage {
  private readonly storage: Storage;
  /** Emulators may not send or check object hashes; Google and gateways do. */
  private readonly validate: boolean;
  /** Where gs:// goes and with which credentials, for the start-up log. */
  readonly description: string;

  constructor(opts: CloudStorageOptions) {
    const where = opts.emulatorHost
      ? `the emulator at ${emulatorEndpoint(opts.emulatorHost)}`
      : opts.endpoint || 'https://storage.googleapis.com';
    this.description = `${where} with ${opts.emulatorHost ? 'no credentials' : opts.keyFile ? `the key file ${opts.keyFile}` : 'Application Default Credentials'}`;
    const retryOptions = { autoRetry: true, maxRetries: 2, maxRetryDelay: 2, totalTimeout: Math.max(1, Math.ceil(opts.timeoutMs / 1000)) };
    this.validate = !opts.emulatorHost;
    // The library reads STORAGE_EMULATOR_HOST itself and then drops `/storage/v1` from the
    // path; hidden here so every mode gets the JSON API's own paths from `apiEndpoint`.
    const saved = process.env.STORAGE_EMULATOR_HOST;
    delete process.env.STORAGE_EMULATOR_HOST;
    try {
      if (opts.emulatorHost) {
        this.storage = new Storage({ apiEndpoint: emulatorEndpoint(opts.emulatorHost), projectId: 'metapixel', retryOptions });
      } else {
        this.storage = new Storage({
          ...(opts.endpoint ? { apiEndpoint: opts.endpoint.replace(/\/+$/, ''), useAuthWithCustomEndpoint: true } : {}),
          ...(opts.keyFile ? { authClient: keyFileClient(opts.keyFile) as unknown as StorageOptions['authClient'] } : { scopes: SCOPES }),
          retryOptions,
        });
      }
    } finally {
      if (saved !== undefined) process.env.STORAGE_EMULATOR_HOST = saved;
    }
  }

  private file(bucket: string, object: string): File {
    return this.storage.bucket(bucket).file(object);
  }

  /** The object's bytes as they arrive; the request starts on the first read. */
  read(bucket: string, object: string): Readable {
    return this.file(bucket, object).createReadStream({ validation: this.validate ? 'crc32c' : false });
  }

  /** A single-request upload: outputs are small JSON files, so no resumable session. */
  async write(bucket: string, object: string, body: Buffer, contentType: string, signal: AbortSignal): Promise<void> {
    const stream = this.file(bucket, object).createWriteStream({
      resumable: false,
      contentType,
      metadata: { contentType },
      validation: this.validate ? 'crc32c' : false,
    });
    const abort = () => stream.destroy(new Error('aborted'));
    try {
      await new Promise<void>((resolve, reject) => {
        stream.once('error', reject).once('finish', resolve);
        if (signal.aborted) return abort();
        signal.addEventListener('abort', abort, { once: true });
        stream.end(body);
      });
    } finally {
      signal.removeEventListener('abort', abort);
    }
  }
}

interface ServiceAccountKey {
  type?: string;
  client_email?: string;
  private_key?: string;
  private_key_id?: string;
  token_uri?: string;
}

interface GaxiosConfig {
  url?: string | URL;
}

interface JwtClient {
  gaxios: { interceptors: { request: { add(i: { resolved: (c: GaxiosConfig) => Promise<GaxiosConfig> }): void } } } | null;
}

/**
 * A client for a service account key file. Unlike the library's own loader, it honours the
 * key's `token_uri` (as Google's Go and Python clients do), for keys issued by an identity
 * provider other than Google's (a private gateway's, a test's).
 */
export function keyFileClient(file: string): JwtClient {
  let key: ServiceAccountKey;
  try {
    key = JSON.parse(readFileSync(file, 'utf8')) as ServiceAccountKey;
  } catch (e) {
    throw new Error(`METAPIXEL_GCS_KEY_FILE ${file}: ${(e as Error).message}`, { cause: e });
  }
  if (key.type !== 'service_account' || !key.client_email || !key.private_key) {
    throw new Error(`METAPIXEL_GCS_KEY_FILE ${file}: not a service account key (type "service_account" with client_email and private_key)`);
  }
  // The auth library @google-cloud/storage itself uses (v9), whose clients it accepts.
  const { JWT } = createRequire(require.resolve('@google-cloud/storage'))('google-auth-library') as {
    JWT: new (o: { email: string; key: string; keyId?: string; scopes: string[] }) => JwtClient;
  };
  const client = new JWT({ email: key.client_email, key: key.private_key, keyId: key.private_key_id, scopes: SCOPES });
  const tokenUri = key.token_uri;
  if (tokenUri && !GOOGLE_TOKEN_URLS.has(tokenUri)) {
    client.gaxios?.interceptors.request.add({
      resolved: async (config) => {
        if (config.url !== undefined && GOOGLE_TOKEN_URLS.has(String(config.url))) config.url = tokenUri;
        return config;
      },
    });
  }
  return client;
}

/**
 * The domain error for a failed Cloud Storage call on `gs://bucket/object`. Reads answer as
 * Google's Vision API does for an object it may not open ("Error opening file: …").
 */
export function storageError(e: unknown, bucket: string, object: string, access: 'read' | 'write'): MetapixelError {
  if (isMetapixelError(e)) return e;
  const what = `gs://${bucket}/${object.slice(0, 200)}`;
  const err = e as { code?: unknown; message?: string; response?: { status?: number } };
  const status = typeof err.code === 'number' ? err.code : err.response?.status;
  const message = String(err.message ?? e);
  if (/Could not load the default credentials|Could not refresh access token|Unable to detect a Project Id/i.test(message)) {
    return failedPrecondition(
      `The server has no Cloud Storage credentials for ${what}: set GOOGLE_APPLICATION_CREDENTIALS or METAPIXEL_GCS_KEY_FILE, use workload identity, or set STORAGE_EMULATOR_HOST or METAPIXEL_GCS_DIR.`,
    );
  }
  if (status === 401 || status === 403 || /invalid_grant|unauthorized_client|invalid_client/.test(message)) {
    return access === 'read'
      ? permissionDenied(`Error opening file: ${what}.`)
      : permissionDenied(`Error writing file: ${what}. The server's Cloud Storage credentials may not create objects in bucket ${bucket}.`);
  }
  if (status === 404)
    return access === 'read' ? notFound(`Cloud Storage object ${what} not found.`) : notFound(`Cloud Storage bucket ${bucket} not found.`);
  if (status === 400) return invalidArgument(`Cloud Storage rejected the object name ${what}.`);
  if (typeof status === 'number')
    return unavailable(`Cloud Storage answered HTTP ${status} ${access === 'read' ? 'for' : 'writing'} ${what}.`);
  return MetapixelError.of(Code.UNAVAILABLE, `Cloud Storage is unreachable: ${message.slice(0, 200)}.`);
}

/** DEADLINE_EXCEEDED for `what`, for callers that time a whole read or write. */
export const storageTimeout = (what: string, access: 'read' | 'write') =>
  deadlineExceeded(`Timed out ${access === 'read' ? 'reading' : 'writing'} ${what}.`);
