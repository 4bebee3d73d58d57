/**
 * Writes `gs://bucket/object` where GcsImageFetcher reads: an upload to Cloud Storage
 * (cloud-storage.ts), or a file under METAPIXEL_GCS_DIR. A write of the same object again
 * replaces it, so a job that redoes a step after a crash is harmless.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { failedPrecondition, invalidArgument } from '../core/errors';
import { localObjectPath, type GcsLimits } from './gcs-fetch';
import { storageError, storageTimeout } from './cloud-storage';
import { OPEN_BUCKETS } from './bucket-policy';

/** Cloud Storage caps object names at 1024 bytes of UTF-8. */
export const MAX_OBJECT_NAME_BYTES = 1024;

/**
 * `gs://bucket/prefix` (the prefix may be empty or end in '/'), as an output destination.
 * Bucket names follow Cloud Storage's rules: 3–222 of [a-z0-9._-], starting and ending
 * with a letter or digit.
 */
export function parseGsPrefix(uri: unknown, field: string): { bucket: string; prefix: string } {
  if (typeof uri !== 'string' || uri === '') throw invalidArgument(`Missing required field: ${field}.`);
  const m = /^gs:\/\/([^/]*)(?:\/(.*))?$/s.exec(uri);
  if (!m) throw invalidArgument(`Invalid ${field} "${uri.slice(0, 200)}": expected a Cloud Storage URI gs://bucket/prefix.`);
  const [, bucket, prefix = ''] = m;
  if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(bucket)) {
    throw invalidArgument(`Invalid ${field} "${uri.slice(0, 200)}": "${bucket.slice(0, 80)}" is not a valid bucket name.`);
  }
  if (/[\r\n\u0000]/.test(prefix)) throw invalidArgument(`Invalid ${field}: object names cannot contain line breaks or NUL.`);
  return { bucket, prefix };
}

export class GcsWriter {
  constructor(private readonly config: Pick<GcsLimits, 'storage' | 'localDir' | 'timeoutMs' | 'buckets'>) {}

  /** PERMISSION_DENIED unless the current call or operation may write to `bucket`. */
  checkAccess(bucket: string): void {
    (this.config.buckets ?? OPEN_BUCKETS).check(bucket, 'write');
  }

  async write(bucket: string, object: string, body: Buffer, contentType: string, signal?: AbortSignal): Promise<void> {
    if (Buffer.byteLength(object) > MAX_OBJECT_NAME_BYTES)
      throw invalidArgument(`Object name gs://${bucket}/${object.slice(0, 100)}… is too long.`);
    this.checkAccess(bucket);
    if (this.config.localDir) return this.writeLocal(bucket, object, body);
    return this.upload(bucket, object, body, contentType, signal);
  }

  /** Write then rename, so a reader never sees half a file. */
  private async writeLocal(bucket: string, object: string, body: Buffer): Promise<void> {
    const file = localObjectPath(this.config.localDir, bucket, object);
    const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(tmp, body);
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      // The file system's own error names a server path: say which object failed and why.
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw failedPrecondition(`Could not write gs://${bucket}/${object.slice(0, 200)} under METAPIXEL_GCS_DIR (${code}).`);
    }
  }

  private async upload(bucket: string, object: string, body: Buffer, contentType: string, signal?: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    try {
      await this.config.storage.write(bucket, object, body, contentType, signal ? AbortSignal.any([signal, timeout]) : timeout);
    } catch (e) {
      if (timeout.aborted) throw storageTimeout(`gs://${bucket}/${object}`, 'write');
      if (signal?.aborted) throw signal.reason ?? e; // as fetch rejects: the caller's own reason
      throw storageError(e, bucket, object, 'write');
    }
  }
}
