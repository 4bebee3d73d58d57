/**
 * What the commands that talk to a server share: the options that say where it is and who
 * calls (--endpoint, --project, --location, --api-key, --json), Google's own
 * `@google-cloud/vision` clients pointed at it (REST fallback, so one URL serves both the
 * Google API and Metapixel's extension paths), fetch for those extension paths, and errors
 * turned into a message that says what to do plus an exit status.
 */
import { Code } from '../core/errors';
import vision from '@google-cloud/vision';
// google-auth-library ships with @google-cloud/vision (google-gax depends on it).
import { PassThroughClient } from 'google-auth-library';
import { Command, InvalidArgumentError, Option } from 'commander';

/** Exit statuses of the server commands (documented in their --help). */
export const EXIT = {
  OK: 0,
  /** Bad usage or a local problem (a missing file, an upload that failed). */
  USAGE: 1,
  /** The work finished but some items (import lines, search images) failed. */
  SOME_FAILED: 3,
  /** The operation failed as a whole. */
  OPERATION_FAILED: 4,
  /** The operation was cancelled. */
  CANCELLED: 5,
  /** The server could not be reached or refused the call (auth, project, bad request). */
  SERVER: 6,
} as const;

export const EXIT_HELP = `Exit status:
  0  success
  1  bad usage or a local problem (missing file, upload failed)
  3  finished, but some lines or images failed (listed)
  4  the operation failed as a whole (e.g. the CSV could not be read)
  5  the operation was cancelled (Ctrl-C, or CancelOperation from elsewhere)
  6  the server could not be reached or refused the call`;

export interface ServerOptions {
  endpoint: string;
  project: string;
  location: string;
  apiKey?: string;
  json?: boolean;
}

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8080';

/** Adds the shared options to a command. */
export function withServerOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--endpoint <url>', "the server's REST base URL")
        .env('METAPIXEL_ENDPOINT')
        .default(DEFAULT_ENDPOINT)
        .argParser(parseEndpoint),
    )
    .addOption(new Option('--project <id>', 'project the resources live in').env('METAPIXEL_PROJECT').makeOptionMandatory())
    .addOption(new Option('--location <id>', 'location the resources live in').env('METAPIXEL_LOCATION').default('us-west1'))
    .addOption(
      new Option('--api-key <key>', 'API key, when the server requires one (prefer the variable: options show in `ps`)').env(
        'METAPIXEL_API_KEY',
      ),
    )
    .option('--json', 'machine-readable JSON on stdout instead of text');
}

function parseEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected a URL such as http://127.0.0.1:8080.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('expected an http:// or https:// URL.');
  if (url.pathname !== '/' || url.search) throw new InvalidArgumentError('give only scheme, host and port (the API paths start at /v1/).');
  return url.origin;
}

export interface Connection {
  endpoint: string;
  /** `projects/P/locations/L` */
  parent: string;
  productSearch: InstanceType<typeof vision.ProductSearchClient>;
  imageAnnotator: InstanceType<typeof vision.ImageAnnotatorClient>;
  /** A call to a REST path of the server (Metapixel's extensions, and what Google's REST client cannot send). */
  rest<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

export function connect(opts: ServerOptions): Connection {
  const url = new URL(opts.endpoint);
  const https = url.protocol === 'https:';
  const clientOptions = {
    apiEndpoint: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : https ? 443 : 80,
    fallback: 'rest' as const,
    protocol: https ? 'https' : 'http',
    // Without a key, a client that sends no credentials (an open server); with neither,
    // the client would look for Google credentials and fail before sending.
    ...(opts.apiKey ? { apiKey: opts.apiKey } : { authClient: new PassThroughClient() }),
  };
  const productSearch = new vision.ProductSearchClient(clientOptions);
  const imageAnnotator = new vision.ImageAnnotatorClient(clientOptions);
  return {
    endpoint: url.origin,
    parent: `projects/${opts.project}/locations/${opts.location}`,
    productSearch,
    imageAnnotator,
    async rest<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${url.origin}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(opts.apiKey ? { 'x-goog-api-key': opts.apiKey } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30000),
      });
      const text = await res.text();
      if (!res.ok) throw Object.assign(new Error(text || `HTTP ${res.status}`), { code: res.status });
      return (text ? JSON.parse(text) : {}) as T;
    },
    async close() {
      await Promise.all([productSearch.close(), imageAnnotator.close()]);
    },
  };
}

/** google.rpc.Code number -> its name. */
export const statusName = (code: number | null | undefined) => (Code[code ?? Code.UNKNOWN] as string | undefined) ?? `code ${code}`;

/**
 * A failed call -> one message that says what went wrong and what to do. The REST client
 * puts Google's error body (`{"error":{code,message,status}}`) in `message`; a network
 * failure carries a Node error code instead.
 */
export function explainError(err: unknown, opts: ServerOptions): string {
  const e = err as { code?: number | string; message?: string; cause?: { code?: unknown } };
  const where = opts.endpoint;
  // Google's client puts the Node error code on the error; fetch puts it on its cause.
  const netCode = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined;
  if (netCode && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ETIMEDOUT)$/.test(netCode)) {
    return `cannot reach the server at ${where} (${netCode}): is \`metapixel serve\` running there? Give its REST URL with --endpoint or METAPIXEL_ENDPOINT.`;
  }
  const body = googleError(e.message);
  if (!body) return e.message ?? String(err);
  switch (body.status) {
    case 'UNAUTHENTICATED':
      return `${body.message} The server at ${where} requires an API key: pass --api-key or set METAPIXEL_API_KEY.`;
    case 'PERMISSION_DENIED':
      return `${body.message} The API key may not use project ${opts.project}: check --project, or the key's projects in the server's METAPIXEL_API_KEYS.`;
    case 'NOT_FOUND':
      return `${body.message} Check --project (${opts.project}) and --location (${opts.location}): resources of another project or location are not found.`;
    default:
      return `${body.status}: ${body.message}`;
  }
}

function googleError(message: string | undefined): { status: string; message: string } | undefined {
  try {
    const body = JSON.parse(message ?? '') as { error?: { status?: string; message?: string } };
    return body.error?.status ? { status: body.error.status, message: body.error.message ?? '' } : undefined;
  } catch {
    return undefined;
  }
}
