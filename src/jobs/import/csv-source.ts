/**
 * Opens an import CSV at gs:// as a byte stream (never read whole: a 100k-line file is
 * streamed), from the Cloud Storage JSON API at STORAGE_EMULATOR_HOST or from
 * METAPIXEL_GCS_DIR, as the image fetcher reads images.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { deadlineExceeded, failedPrecondition, notFound } from '../../core/errors';
import { getJsonApiObject, localObjectPath, parseGsUri } from '../../images/gcs-fetch';
import { OPEN_BUCKETS, type BucketPolicy } from '../../images/bucket-policy';

export interface CsvSourceOptions {
  emulatorHost: string;
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
    if (!this.opts.emulatorHost) {
      throw failedPrecondition('gs:// URIs need STORAGE_EMULATOR_HOST or METAPIXEL_GCS_DIR to be configured on the server.');
    }
    // A CSV may take long in all: the deadline is for the answer to start, then each chunk
    // must come within it (withStallTimeout).
    const headers = new AbortController();
    const stalled = new AbortController();
    const timer = setTimeout(() => headers.abort(), this.opts.timeoutMs);
    const res = await getJsonApiObject(this.opts.emulatorHost, bucket, object, [signal, stalled.signal], headers.signal).finally(() => clearTimeout(timer));
    return withStallTimeout(res.body!, this.opts.timeoutMs, what, stalled);
  }
}

/**
 * The body may take long in all, but a pause of `ms` between two chunks fails the read
 * (and aborts the request, which also ends the pending read).
 */
async function* withStallTimeout(body: AsyncIterable<Uint8Array>, ms: number, what: string, request: AbortController): AsyncIterable<Uint8Array> {
  for (const it = body[Symbol.asyncIterator](); ; ) {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        request.abort();
        reject(deadlineExceeded(`Reading ${what} stalled for ${ms} ms.`));
      }, ms);
    });
    const next = await Promise.race([it.next(), stalled]).finally(() => clearTimeout(timer));
    if (next.done) return;
    yield next.value;
  }
}
