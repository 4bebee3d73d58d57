/**
 * Turns a reference image into its indexed regions: fetch (gs://), decode, choose the
 * regions (regions/regions.ts), embed each with the same pipeline query images use, and encode the
 * embedding into its binary code when a hasher is configured. Runs inside
 * CreateReferenceImage, so a created image is searchable at once and a failure is the
 * call's error (nothing is stored); bulk imports run it from their job.
 */
import type { ReferenceImageProcessor } from './catalog-service';
import type { ImageFetcher } from '../images/image-fetcher';
import type { ImageDecoder } from '../images/image-decoder';
import type { PolyRecord, RegionRecord } from '../store/catalog-store';
import type { Embedder } from '../vision/embedder';
import type { ObjectDetector } from '../vision/object-detector';
import { objectRoom, selectRegions, wholeImageBox } from '../regions/regions';
import { embedRegion, embedThumbnail } from '../regions/region-embedding';
import type { CompactEmbeddingCodec } from '../search/compact-embedding';

/** Embedding -> binary code (bits/8 bytes, bit i = bit (i % 8) of byte (i / 8)). */
export interface CodeEncoder {
  readonly bits: number;
  encode(embedding: Float32Array): Uint8Array;
}

export class ReferenceImageIngestor implements ReferenceImageProcessor {
  constructor(
    private readonly fetcher: ImageFetcher,
    private readonly decoder: ImageDecoder,
    private readonly detector: ObjectDetector,
    private readonly embedder: Embedder,
    private readonly encoder?: CodeEncoder,
    /** Stores each region's compact re-rank data too (what the index holds). */
    private readonly codec?: CompactEmbeddingCodec,
    /** Regions one image may produce, all kinds counted (METAPIXEL_MAX_REGIONS_PER_IMAGE). */
    private readonly maxRegions = Infinity,
  ) {}

  async process(uri: string, polys: readonly PolyRecord[], category: string): Promise<RegionRecord[]> {
    const img = await this.decoder.decode(await this.fetcher.fetchUri(uri));
    // Regions are kept in the pixels of the oriented original, as Google reports polygons.
    const size = { width: img.originalWidth, height: img.originalHeight };
    // No room for objects under the cap: no detection either.
    const detected = polys.length || objectRoom(this.maxRegions) === 0 ? [] : await this.detector.detect(img);
    const chosen = selectRegions(polys, detected, category, size, this.maxRegions);
    const regions: RegionRecord[] = [];
    const add = (r: Pick<RegionRecord, 'box' | 'source'>, embedding: Float32Array) =>
      regions.push({
        ...r,
        embedding: new Uint8Array(embedding.buffer, embedding.byteOffset, embedding.byteLength),
        ...(this.encoder ? { code: this.encoder.encode(embedding) } : {}),
        ...(this.codec ? { compact: this.codec.serialize(this.codec.encode(embedding)) } : {}),
      });
    for (const r of chosen) add(r, await embedRegion(this.embedder, img, r.box));
    // Without polygons the image is also indexed as a thumbnail, which low-resolution
    // queries resemble far more than the sharp original (docs/search.md).
    if (polys.length === 0 && regions.length < this.maxRegions)
      add({ box: wholeImageBox(size), source: 'thumbnail' }, await embedThumbnail(this.embedder, img));
    return regions;
  }
}
