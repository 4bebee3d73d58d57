/**
 * Image bytes at gs:// for a browser, which cannot read Cloud Storage itself: an object's
 * bytes, to show a reference image, and a single-request upload, to put a photo where
 * CreateReferenceImage reads it. Both go through the server's own Cloud Storage access
 * (the emulator, METAPIXEL_GCS_DIR or Google) under the same bucket policy and size limit
 * as every gs:// read, and only images pass either way: this is not a general file store.
 */
import { failedPrecondition, invalidArgument } from '../core/errors';
import { parseGsUri } from '../images/gcs-fetch';
import type { GcsWriter } from '../images/gcs-writer';
import { imageMediaType } from '../images/image-decoder';

/** Cloud Storage's object resource, as much of it as an upload's answer carries. */
export interface StagedObject {
  kind: 'storage#object';
  bucket: string;
  name: string;
  /** Bytes, as a decimal string (the JSON API's uint64). */
  size: string;
  contentType: string;
}

export interface StagingMediaDeps {
  /** Reads gs://bucket/object within the image limits and the bucket policy. */
  read: (uri: string, signal?: AbortSignal) => Promise<Uint8Array>;
  writer: GcsWriter;
  maxBytes: number;
}

export class StagingMedia {
  constructor(private readonly deps: StagingMediaDeps) {}

  async download(bucket: string, object: string, signal?: AbortSignal): Promise<{ bytes: Uint8Array; contentType: string }> {
    const uri = `gs://${bucket}/${object}`;
    const bytes = await this.deps.read(uri, signal); // parses and checks the URI
    const contentType = await imageMediaType(bytes);
    if (!contentType) throw failedPrecondition(`${uri.slice(0, 300)} is not an image; only images are served.`);
    return { bytes, contentType };
  }

  async upload(bucket: string, object: string, bytes: Uint8Array, signal?: AbortSignal): Promise<StagedObject> {
    if (!object) throw invalidArgument('Missing required parameter: name.');
    const uri = `gs://${bucket}/${object}`;
    parseGsUri(uri, 'object');
    if (bytes.length === 0) throw invalidArgument('The upload is empty.');
    if (bytes.length > this.deps.maxBytes) throw invalidArgument(`The image is ${bytes.length} bytes; the limit is ${this.deps.maxBytes}.`);
    const contentType = await imageMediaType(bytes);
    if (!contentType) throw invalidArgument('Only images can be uploaded (JPEG, PNG, WebP, GIF, AVIF, HEIF, TIFF, JPEG 2000).');
    await this.deps.writer.write(bucket, object, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), contentType, signal);
    return { kind: 'storage#object', bucket, name: object, size: String(bytes.length), contentType };
  }
}
