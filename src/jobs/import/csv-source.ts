/**
 * Opens an import CSV at gs:// as a byte stream (never read whole: a 100k-line file is
 * streamed), from Cloud Storage (images/cloud-storage.ts) or from METAPIXEL_GCS_DIR, as
 * the image fetcher reads images.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { cancelled, deadlineExceeded, notFound } from '../../core/errors';
import { localObjectPath, parseGsUri } from '../../images/gcs-fetch';
import { storageError, type CloudStorage } from '../../images/cloud-storage';
import { OPEN_BUCKETS, type BucketPolicy } from '../../images/bucket-policy';

export interface CsvSourceOptions {
  /** Used unless `localDir` is set. */
  storage: CloudStorage;
  localDir: string;
  /** Until the response starts, and the longest pause between two chunks of the body. */
  timeoutMs: number;
  /** Which callers may use which buckets (default: everyone every bucket). */
  buckets?: BucketPolicy;
}

/** A source of the CSV's bytes; tests and other stores of files can stand in for it. */
export interface TextSource {
  open(uri: string, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>>;
}

export class GcsTextSource implements TextSource {
  constructor(private readonly opts: CsvSourceOptions) {}

  async open(uri: string, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
    const { bucket, object } = parseGsUri(uri);
    const what = `gs://${bucket}/${object}`;
    (this.opts.buckets ?? OPEN_BUCKETS).check(bucket, 'read');
    if (this.opts.localDir) {
      const file = localObjectPath(this.opts.localDir, bucket, object);
      const handle = await open(file, 'r').catch(() => {
        throw notFound(`Cloud Storage object ${what} not found.`);
      });
      // The stream takes over the FileHandle (and closes it), not just its number.
      return createReadStream('', { fd: handle, signal });
    }
    // A CSV may take long in all: the first chunk (so the answer: a missing object fails
    // here) must come within the timeout, then each next chunk within it of the last.
    const stream = this.opts.storage.read(bucket, object);
    const onAbort = () => stream.destroy(cancelled(`The read of ${what} was cancelled.`));
    signal.addEventListener('abort', onAbort, { once: true });
    stream.once('close', () => signal.removeEventListener('abort', onAbort));
    const chunks = withStallTimeout(stream, this.opts.timeoutMs, what, () => stream.destroy());
    const it = chunks[Symbol.asyncIterator]();
    let first: IteratorResult<Uint8Array>;
    try {
      first = await it.next();
    } catch (e) {
      throw storageError(e, bucket, object, 'read');
    }
    return (async function* () {
      try {
        for (let next = first; !next.done; next = await it.next()) yield next.value;
      } catch (e) {
        throw storageError(e, bucket, object, 'read');
      } finally {
        stream.destroy(); // also when the reader stops early
      }
    })();
  }
}

/**
 * The body may take long in all, but a pause of `ms` between two chunks fails the read
 * (and aborts the request, which also ends the pending read).
 */
async function* withStallTimeout(body: AsyncIterable<Uint8Array>, ms: number, what: string, stop: () => void): AsyncIterable<Uint8Array> {
  for (const it = body[Symbol.asyncIterator](); ;) {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        stop();
        reject(deadlineExceeded(`Reading ${what} stalled for ${ms} ms.`));
      }, ms);
    });
    const next = await Promise.race([it.next(), stalled]).finally(() => clearTimeout(timer));
    if (next.done) return;
    yield next.value;
  }
}
