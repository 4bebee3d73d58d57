/**
 * The console's only way to the server: the public REST API (/v1/…), /metrics and
 * /readyz, as any client. The API key lives in sessionStorage only (gone with the tab);
 * the project and location are remembered in localStorage, being no secret.
 */
const KEY_STORE = 'metapixel.apiKey';
const METRICS_KEY_STORE = 'metapixel.metricsKey';
const SCOPE_STORE = 'metapixel.scope';

export class ApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Scope {
  project: string;
  location: string;
}

type Listener = () => void;
const listeners = new Set<Listener>();
/** Called when a call was refused for want of a key (the page then asks for one). */
export const needKey = { listeners };

export function apiKey(): string {
  return sessionStorage.getItem(KEY_STORE) ?? '';
}
export function setApiKey(key: string): void {
  if (key) sessionStorage.setItem(KEY_STORE, key);
  else sessionStorage.removeItem(KEY_STORE);
}
export function metricsKey(): string {
  return sessionStorage.getItem(METRICS_KEY_STORE) ?? '';
}
export function setMetricsKey(key: string): void {
  if (key) sessionStorage.setItem(METRICS_KEY_STORE, key);
  else sessionStorage.removeItem(METRICS_KEY_STORE);
}

export function scope(): Scope {
  try {
    const s = JSON.parse(localStorage.getItem(SCOPE_STORE) ?? '{}') as Partial<Scope>;
    return { project: s.project ?? '', location: s.location ?? 'us-west1' };
  } catch {
    return { project: '', location: 'us-west1' };
  }
}
export function setScope(s: Scope): void {
  localStorage.setItem(SCOPE_STORE, JSON.stringify(s));
  const seen = recentScopes().filter((r) => r.project !== s.project || r.location !== s.location);
  localStorage.setItem(`${SCOPE_STORE}.recent`, JSON.stringify([s, ...seen].slice(0, 10)));
}
export function recentScopes(): Scope[] {
  try {
    return JSON.parse(localStorage.getItem(`${SCOPE_STORE}.recent`) ?? '[]') as Scope[];
  } catch {
    return [];
  }
}

/** projects/P/locations/L */
export function parent(): string {
  const s = scope();
  return `projects/${s.project}/locations/${s.location}`;
}

function keyHeaders(): Record<string, string> {
  const key = apiKey();
  return key ? { 'x-goog-api-key': key } : {};
}

/** A failed answer as an ApiError (a 401 also tells the page to ask for a key). */
async function failure(res: Response): Promise<ApiError> {
  const text = await res.text();
  let err: { message?: string; status?: string } = {};
  try {
    err = (JSON.parse(text) as { error?: typeof err }).error ?? {};
  } catch {
    // not Google's error body
  }
  if (res.status === 401) for (const l of listeners) l();
  return new ApiError(res.status, err.status ?? String(res.status), err.message ?? res.statusText);
}

/** One REST call: `path` is after /v1/ (a resource name, maybe with a verb and query). */
export async function call<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers = { 'content-type': 'application/json', ...keyHeaders() };
  let res: Response;
  try {
    res = await fetch(`/v1/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'UNAVAILABLE', 'The server could not be reached.');
  }
  if (!res.ok) throw await failure(res);
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as T;
}

/** gs://bucket/object -> its parts; undefined for anything else. */
export function splitGsUri(uri: string): { bucket: string; object: string } | undefined {
  const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  return m ? { bucket: m[1], object: m[2] } : undefined;
}

/**
 * An image at gs:// as a blob: URL, read through the server's Cloud Storage media route
 * (the browser cannot reach Cloud Storage; the server reads it as it does for the API).
 */
export function gcsObjectUrl(uri: string): Promise<string> {
  // Once per object and page: a search shows the same reference image in several places.
  let url = objectUrls.get(uri);
  if (!url) {
    url = readObject(uri);
    objectUrls.set(uri, url);
    url.catch(() => objectUrls.delete(uri)); // a failure is asked again next time
  }
  return url;
}

const objectUrls = new Map<string, Promise<string>>();

async function readObject(uri: string): Promise<string> {
  const at = splitGsUri(uri);
  if (!at) throw new ApiError(400, 'INVALID_ARGUMENT', `${uri} is not a gs:// URI.`);
  const res = await fetch(`/storage/v1/b/${encodeURIComponent(at.bucket)}/o/${encodeURIComponent(at.object)}?alt=media`, {
    headers: keyHeaders(),
  });
  if (!res.ok) throw await failure(res);
  return URL.createObjectURL(await res.blob());
}

/** Puts a photo at gs://bucket/object through the server (the same route's upload half). */
export async function uploadToGcs(uri: string, file: Blob): Promise<void> {
  const at = splitGsUri(uri);
  if (!at) throw new ApiError(400, 'INVALID_ARGUMENT', `${uri} is not a gs:// URI of an object.`);
  const res = await fetch(
    `/upload/storage/v1/b/${encodeURIComponent(at.bucket)}/o?uploadType=media&name=${encodeURIComponent(at.object)}`,
    {
      method: 'POST',
      headers: { ...keyHeaders(), 'content-type': file.type || 'application/octet-stream' },
      body: file,
    },
  );
  if (!res.ok) throw await failure(res);
  // The object's old picture, if one was shown, is no longer its picture.
  void objectUrls.get(uri)?.then(
    (old) => URL.revokeObjectURL(old),
    () => undefined,
  );
  objectUrls.delete(uri);
}

/** Every page of a list call, up to `maxPages` (then `more` says there were more). */
export async function listAll<T>(path: string, field: string, maxPages = 20): Promise<{ items: T[]; more: boolean }> {
  const items: T[] = [];
  let token = '';
  for (let i = 0; i < maxPages; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const page = await call<Record<string, unknown>>(
      'GET',
      `${path}${sep}pageSize=100${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`,
    );
    items.push(...((page[field] as T[] | undefined) ?? []));
    token = (page.nextPageToken as string | undefined) ?? '';
    if (!token) return { items, more: false };
  }
  return { items, more: true };
}

/** GET of a text endpoint beside the API (/metrics, /readyz). */
export async function getText(path: string): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (path === '/metrics' && metricsKey()) headers.authorization = `Bearer ${metricsKey()}`;
  const res = await fetch(path, { headers });
  return { status: res.status, text: await res.text() };
}

export function message(e: unknown): string {
  if (e instanceof ApiError) return `${e.status}: ${e.message}`;
  return (e as Error).message ?? String(e);
}
