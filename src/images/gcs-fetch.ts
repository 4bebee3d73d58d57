/**
 * Reads `gs://bucket/object` from Cloud Storage (cloud-storage.ts: Google, an emulator or
 * another endpoint), or from a local directory laid out as DIR/bucket/object. The storage
 * is configured by the operator, so it is trusted: no address checks, but the same time
 * and size limits.
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { cancelled, invalidArgument, notFound } from '../core/errors';
import { CloudStorage, storageError, storageTimeout } from './cloud-storage';
import { OPEN_BUCKETS, type BucketPolicy } from './bucket-policy';

export interface GcsLimits {
  /** Used unless `localDir` is set. */
  storage: CloudStorage;
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
  if (m[2] === '.' || m[2] === '..' || /[\r\n\u0000]/.test(m[2]))
    throw invalidArgument(`${what}: "${m[2].slice(0, 80)}" is not a valid object name.`);
  return { bucket: m[1], object: m[2] };
}

const BUCKET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,221}$/;

/** DIR/bucket/object for METAPIXEL_GCS_DIR; a name escaping DIR is INVALID_ARGUMENT. */
export function localObjectPath(localDir: string, bucket: string, object: string): string {
  // A file path would fold '.', '..' and empty segments (gs://a/../b/x into bucket b), so
  // names with them cannot be kept in a bucket directory: refused rather than aliased.
  const bucketDir = path.resolve(localDir, bucket);
  const segments = object.split('/');
  if (bucket === '.' || bucket === '..' || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw invalidArgument(
      `Cloud Storage object name "${object.slice(0, 200)}" has '.', '..' or empty path segments, which METAPIXEL_GCS_DIR cannot store.`,
    );
  }
  const file = path.resolve(bucketDir, object);
  if (!file.startsWith(bucketDir + path.sep)) throw invalidArgument('Invalid Cloud Storage object name.');
  return file;
}

export class GcsImageFetcher {
  constructor(private readonly limits: GcsLimits) {}

  async fetch(uri: string, signal?: AbortSignal): Promise<Buffer> {
    const { bucket, object } = parseGsUri(uri);
    (this.limits.buckets ?? OPEN_BUCKETS).check(bucket, 'read');
    if (this.limits.localDir) return this.readLocal(bucket, object);
    return this.readStorage(bucket, object, signal);
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

  /**
   * The deadline covers the whole read, credentials and body included; the stream is
   * destroyed (its request aborted) at the deadline, on `signal` or past the cap.
   */
  private async readStorage(bucket: string, object: string, signal?: AbortSignal): Promise<Buffer> {
    const what = `gs://${bucket}/${object}`;
    const stream = this.limits.storage.read(bucket, object);
    const deadline = AbortSignal.timeout(this.limits.timeoutMs);
    const stop = AbortSignal.any(signal ? [signal, deadline] : [deadline]);
    const onStop = () => stream.destroy(deadline.aborted ? storageTimeout(what, 'read') : cancelled(`The read of ${what} was cancelled.`));
    if (stop.aborted) onStop();
    stop.addEventListener('abort', onStop, { once: true });
    // A declared length past the cap is refused before any of the body is read.
    stream.once('response', (res: { headers?: Record<string, string | string[] | undefined> }) => {
      const declared = Number(res.headers?.['content-length'] ?? 0);
      if (declared > this.limits.maxBytes)
        stream.destroy(invalidArgument(`The image is ${declared} bytes; the limit is ${this.limits.maxBytes}.`));
    });
    try {
      return await readCapped(stream, this.limits.maxBytes);
    } catch (e) {
      throw storageError(e, bucket, object, 'read');
    } finally {
      stop.removeEventListener('abort', onStop);
      stream.destroy();
    }
  }
}

/**
 * A body read chunk by chunk and destroyed as soon as it passes `maxBytes`: nothing past
 * the cap is read or held, whatever the sender declared (or did not).
 */
export async function readCapped(body: AsyncIterable<Uint8Array> & { destroy?: () => void }, maxBytes: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy?.();
      throw invalidArgument(`The image is larger than the limit of ${maxBytes} bytes.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
