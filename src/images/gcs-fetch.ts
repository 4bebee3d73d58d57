/**
 * Reads `gs://bucket/object` through the Cloud Storage JSON API at STORAGE_EMULATOR_HOST
 * (the convention of Google's own storage clients and of storage emulators), or from a
 * local directory laid out as DIR/bucket/object. The storage host is configured by the
 * operator, so it is trusted: no address checks, but the same time and size limits.
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { deadlineExceeded, failedPrecondition, invalidArgument, MetapixelError, notFound, Code } from '../core/errors';
import { OPEN_BUCKETS, type BucketPolicy } from './bucket-policy';

export interface GcsLimits {
  emulatorHost: string;
  localDir: string;
  timeoutMs: number;
  maxBytes: number;
  /** Which callers may use which buckets (default: everyone every bucket). */
  buckets?: BucketPolicy;
}

export function parseGsUri(uri: string, field?: string): { bucket: string; object: string } {
  const m = /^gs:\/\/([^/]+)\/(.+)$/s.exec(uri);
  const what = `Invalid ${field ?? 'Cloud Storage URI'} "${uri.slice(0, 200)}"`;
  if (!m) throw invalidArgument(`${what}: expected gs://bucket/object.`);
  // Within Cloud Storage's naming rules (loosened for emulators' short test buckets): a
  // bucket starts with a letter or digit and holds only [A-Za-z0-9._-]; an object is not
  // "." or "..", nor holds line breaks or NUL. So no name walks to another API path.
  if (!BUCKET_NAME.test(m[1])) throw invalidArgument(`${what}: "${m[1].slice(0, 80)}" is not a valid bucket name.`);
  if (m[2] === '.' || m[2] === '..' || /[\r\n\u0000]/.test(m[2])) throw invalidArgument(`${what}: "${m[2].slice(0, 80)}" is not a valid object name.`);
  return { bucket: m[1], object: m[2] };
}

const BUCKET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,221}$/;

/** The Cloud Storage JSON API root at STORAGE_EMULATOR_HOST (a bare host:port means http). */
export function jsonApiBase(emulatorHost: string): string {
  const base = /^https?:\/\//.test(emulatorHost) ? emulatorHost : `http://${emulatorHost}`;
  return base.replace(/\/$/, '');
}

/** DIR/bucket/object for METAPIXEL_GCS_DIR; a name escaping DIR is INVALID_ARGUMENT. */
export function localObjectPath(localDir: string, bucket: string, object: string): string {
  // A file path would fold '.', '..' and empty segments (gs://a/../b/x into bucket b), so
  // names with them cannot be kept in a bucket directory: refused rather than aliased.
  const bucketDir = path.resolve(localDir, bucket);
  const segments = object.split('/');
  if (bucket === '.' || bucket === '..' || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw invalidArgument(`Cloud Storage object name "${object.slice(0, 200)}" has '.', '..' or empty path segments, which METAPIXEL_GCS_DIR cannot store.`);
  }
  const file = path.resolve(bucketDir, object);
  if (!file.startsWith(bucketDir + path.sep)) throw invalidArgument('Invalid Cloud Storage object name.');
  return file;
}

/**
 * GET of one object through the Cloud Storage JSON API at `emulatorHost`, failures mapped
 * once for every reader: `deadline` firing is DEADLINE_EXCEEDED, any other network failure
 * UNAVAILABLE, a missing object NOT_FOUND, another HTTP error UNAVAILABLE.
 */
export async function getJsonApiObject(emulatorHost: string, bucket: string, object: string, signals: AbortSignal[], deadline: AbortSignal): Promise<Response> {
  const what = `gs://${bucket}/${object}`;
  const url = `${jsonApiBase(emulatorHost)}/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(object)}?alt=media`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.any([...signals, deadline]) });
  } catch (e) {
    if (deadline.aborted) throw deadlineExceeded(`Timed out reading ${what}.`);
    throw MetapixelError.of(Code.UNAVAILABLE, `Cloud Storage is unreachable: ${(e as Error).message}.`);
  }
  if (res.status === 404) throw notFound(`Cloud Storage object ${what} not found.`);
  if (!res.ok || !res.body) throw MetapixelError.of(Code.UNAVAILABLE, `Cloud Storage answered HTTP ${res.status} for ${what}.`);
  return res;
}

export class GcsImageFetcher {
  constructor(private readonly limits: GcsLimits) {}

  get configured(): boolean {
    return Boolean(this.limits.emulatorHost || this.limits.localDir);
  }

  async fetch(uri: string, signal?: AbortSignal): Promise<Buffer> {
    const { bucket, object } = parseGsUri(uri);
    (this.limits.buckets ?? OPEN_BUCKETS).check(bucket, 'read');
    if (this.limits.localDir) return this.readLocal(bucket, object);
    if (this.limits.emulatorHost) return this.readJsonApi(bucket, object, signal);
    throw failedPrecondition('gs:// URIs need STORAGE_EMULATOR_HOST or METAPIXEL_GCS_DIR to be configured on the server.');
  }

  private async readLocal(bucket: string, object: string): Promise<Buffer> {
    const file = localObjectPath(this.limits.localDir, bucket, object);
    let handle;
    try {
      handle = await open(file, 'r');
    } catch {
      throw notFound(`Cloud Storage object gs://${bucket}/${object} not found.`);
    }
    try {
      const stat = await handle.stat();
      // Cloud Storage has no directories (a "folder" is a name prefix), nor devices or pipes.
      if (!stat.isFile()) throw notFound(`Cloud Storage object gs://${bucket}/${object} not found.`);
      if (stat.size > this.limits.maxBytes) throw invalidArgument(`The image is ${stat.size} bytes; the limit is ${this.limits.maxBytes}.`);
      // Read no more than the cap (+1 to tell a file that grew since the stat).
      const buf = Buffer.alloc(Math.min(stat.size, this.limits.maxBytes) + 1);
      let n = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buf, n, buf.length - n, n);
        if (bytesRead === 0) break;
        n += bytesRead;
        if (n > this.limits.maxBytes) throw invalidArgument(`The image is larger than the limit of ${this.limits.maxBytes} bytes.`);
        if (n === buf.length) break;
      }
      return buf.subarray(0, n);
    } finally {
      await handle.close();
    }
  }

  private async readJsonApi(bucket: string, object: string, signal?: AbortSignal): Promise<Buffer> {
    // The deadline covers the whole read, body included: an image is read at once.
    const deadline = AbortSignal.timeout(this.limits.timeoutMs);
    const res = await getJsonApiObject(this.limits.emulatorHost, bucket, object, signal ? [signal] : [], deadline);
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > this.limits.maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw invalidArgument(`The image is ${declared} bytes; the limit is ${this.limits.maxBytes}.`);
    }
    return readCapped(res.body!, this.limits.maxBytes, `gs://${bucket}/${object}`, deadline);
  }
}

/**
 * A response body read chunk by chunk, cancelled as soon as it passes `maxBytes`: nothing
 * past the cap is read or held, whatever the sender declared (or did not).
 */
export async function readCapped(body: ReadableStream<Uint8Array>, maxBytes: number, what: string, deadline?: AbortSignal): Promise<Buffer> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw invalidArgument(`The image is larger than the limit of ${maxBytes} bytes.`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof MetapixelError) throw e;
    if (deadline?.aborted) throw deadlineExceeded(`Timed out reading ${what}.`);
    throw MetapixelError.of(Code.UNAVAILABLE, `Cloud Storage read of ${what} failed: ${(e as Error).message}.`);
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks, size);
}
