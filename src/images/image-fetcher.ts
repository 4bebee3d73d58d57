/**
 * The one entry for image bytes, whatever their source: inline content, an http(s) URL,
 * or a gs:// object. Google's precedence: content wins over source; imageUri wins over
 * gcsImageUri.
 */
import { invalidArgument } from '../core/errors';
import { GcsImageFetcher } from './gcs-fetch';
import { HttpImageFetcher } from './http-fetch';

export interface ImageRef {
  content?: Uint8Array | null;
  source?: { imageUri?: string; gcsImageUri?: string } | null;
}

export class ImageFetcher {
  constructor(
    private readonly http: HttpImageFetcher,
    private readonly gcs: GcsImageFetcher,
    private readonly maxBytes: number,
  ) {}

  async fetch(image: ImageRef | null | undefined, signal?: AbortSignal): Promise<Uint8Array> {
    if (image?.content && image.content.length > 0) {
      if (image.content.length > this.maxBytes)
        throw invalidArgument(`The image is ${image.content.length} bytes; the limit is ${this.maxBytes}.`);
      return image.content;
    }
    const uri = image?.source?.imageUri || image?.source?.gcsImageUri;
    if (!uri) throw invalidArgument('No image given: set image.content or image.source.imageUri.');
    return this.fetchUri(uri, signal);
  }

  async fetchUri(uri: string, signal?: AbortSignal): Promise<Uint8Array> {
    if (uri.startsWith('gs://')) return this.gcs.fetch(uri, signal);
    if (/^https?:\/\//i.test(uri)) return this.http.fetch(uri, signal);
    throw invalidArgument(`Unsupported image URI "${uri.slice(0, 200)}": use gs://, http:// or https://.`);
  }
}
