/**
 * images:encode (metapixel.v1.ImageEncoder, protos/metapixel/v1/encode.proto): per image,
 * the detected items with their binary codes, and the whole image's code. It runs the
 * steps the index runs for a reference image (catalog/ingestor.ts): the same fetcher and decoder,
 * the detector, the same pixel boxes (regions/regions.ts), the same embedding of a region
 * (regions/region-embedding.ts) and the same hasher, so a code here equals the code the index
 * stores for the same pixels. The CLI (`metapixel encode`) calls encodeImage directly.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { CallContext } from '../core/context';
import { invalidArgument } from '../core/errors';
import { PRODUCT_CATEGORIES } from '../catalog/rules';
import { boxPolygon, type BoundingPolyMsg, type StatusMsg } from '../core/messages';
import type { ImageFetcher, ImageRef } from '../images/image-fetcher';
import type { ImageDecoder } from '../images/image-decoder';
import type { Embedder } from '../vision/embedder';
import type { ObjectDetector } from '../vision/object-detector';
import { checkImageBatch, imageErrorStatus } from '../annotate/image-batch';
import type { Hasher, HashMethod } from '../search/hasher';
import { canonicalCategory, categoryOfClass, classesForCategory, detectedBox, wholeImageBox } from '../regions/regions';
import { embedRegion, embedThumbnail, normalizedBox } from '../regions/region-embedding';

export interface EncodeOptionsMsg {
  maxItems?: number;
  productCategory?: string;
  minScore?: number;
}

export interface EncodeImageRequestMsg {
  image?: ImageRef | null;
  options?: EncodeOptionsMsg | null;
}

export interface BinaryCodeMsg {
  hex: string;
  bits: string;
  length: number;
}

export interface CodeSchemeMsg {
  length: number;
  method: 'ITQ' | 'PCA_SIGN' | 'RANDOM_PROJECTION';
  fingerprint: string;
}

export interface EncodedItemMsg {
  category: string;
  name: string;
  mid: string;
  score: number;
  boundingPoly: BoundingPolyMsg;
  code: BinaryCodeMsg;
}

export interface EncodeImageResponseMsg {
  items?: EncodedItemMsg[];
  imageCode?: BinaryCodeMsg;
  thumbnailCode?: BinaryCodeMsg;
  codeScheme?: CodeSchemeMsg;
  error?: StatusMsg;
}

export interface EncodeLimits {
  maxImagesPerRequest: number;
  /** Items per image when options.max_items is 0. */
  defaultMaxResults: number;
}

/** Most items one image may ask for. */
export const MAX_ITEMS = 100;

const METHODS: Record<HashMethod, CodeSchemeMsg['method']> = {
  itq: 'ITQ',
  'pca-sign': 'PCA_SIGN',
  'random-projection': 'RANDOM_PROJECTION',
};

export class EncodeService {
  readonly scheme: CodeSchemeMsg;

  constructor(
    private readonly fetcher: ImageFetcher,
    private readonly decoder: ImageDecoder,
    private readonly detector: ObjectDetector,
    private readonly embedder: Embedder,
    private readonly hasher: Hasher,
    private readonly limits: EncodeLimits,
    private readonly log: Logger,
  ) {
    // Codes compare only under the same embedding model and the same hash parameters.
    const fingerprint = createHash('sha256').update(`${embedder.modelSha256}/${hasher.fingerprint}`).digest('hex').slice(0, 16);
    this.scheme = { length: hasher.bits, method: METHODS[hasher.method], fingerprint };
  }

  async encodeImages(req: { requests?: EncodeImageRequestMsg[]; parent?: string }, ctx: CallContext) {
    const requests = checkImageBatch(req, ctx, this.limits.maxImagesPerRequest);
    return { responses: await Promise.all(requests.map((r) => this.encodeImage(r))) };
  }

  /** One image. Never throws: a failure is the answer's `error`. */
  async encodeImage(req: EncodeImageRequestMsg): Promise<EncodeImageResponseMsg> {
    try {
      const opts = this.options(req.options ?? {});
      const img = await this.decoder.decode(await this.fetcher.fetch(req.image));
      const size = { width: img.originalWidth, height: img.originalHeight };
      const fits = opts.category ? classesForCategory(opts.category) : 'any';
      // Detect as many as the index would before the category filter, as selectRegions does.
      const found = await this.detector.detect(img, {
        maxResults: Math.max(opts.maxItems, this.limits.defaultMaxResults),
        minScore: opts.minScore,
      });
      const items: EncodedItemMsg[] = [];
      // One region at a time, as the ingestor: a batch must not flood the inference queue.
      for (const d of found.filter((o) => fits === 'any' || fits.includes(o.name)).slice(0, opts.maxItems)) {
        const box = detectedBox(d, size);
        items.push({
          category: opts.category || categoryOfClass(d.name),
          name: d.name,
          mid: d.mid,
          score: d.score,
          boundingPoly: boxPolygon(normalizedBox(box, img)),
          code: this.codeOf(await embedRegion(this.embedder, img, box)),
        });
      }
      const imageCode = this.codeOf(await embedRegion(this.embedder, img, wholeImageBox(size)));
      const thumbnailCode = this.codeOf(await embedThumbnail(this.embedder, img));
      return { items, imageCode, thumbnailCode, codeScheme: this.scheme };
    } catch (e) {
      return { error: imageErrorStatus(e, this.log) };
    }
  }

  private codeOf(embedding: Float32Array): BinaryCodeMsg {
    return codeMessage(this.hasher.encode(embedding), this.hasher.bits);
  }

  private options(o: EncodeOptionsMsg): { maxItems: number; category: string; minScore?: number } {
    // The server-wide default may be set above what one encode answers; it is capped here.
    const maxItems = o.maxItems || Math.min(this.limits.defaultMaxResults, MAX_ITEMS);
    if (!Number.isInteger(maxItems) || maxItems < 0 || maxItems > MAX_ITEMS) {
      throw invalidArgument(`options.max_items must be between 0 and ${MAX_ITEMS}, got ${o.maxItems}.`);
    }
    const category = o.productCategory ?? '';
    if (category && !(PRODUCT_CATEGORIES as readonly string[]).includes(category)) {
      throw invalidArgument(
        `Invalid options.product_category "${category}": must be one of ${PRODUCT_CATEGORIES.join(', ')}, or empty for every item.`,
      );
    }
    const minScore = o.minScore || undefined;
    if (minScore !== undefined && !(minScore > 0 && minScore < 1)) {
      throw invalidArgument(`options.min_score must be in [0, 1), got ${o.minScore}.`);
    }
    return { maxItems, category: category && canonicalCategory(category), minScore };
  }
}

/** A packed code (bit i = bit i % 8 of byte i / 8) as hex and as a '0'/'1' string, bit 0 first. */
export function codeMessage(code: Uint8Array, bits: number): BinaryCodeMsg {
  let s = '';
  for (let i = 0; i < bits; i++) s += (code[i >> 3] >> (i & 7)) & 1 ? '1' : '0';
  return { hex: Buffer.from(code.buffer, code.byteOffset, code.byteLength).toString('hex'), bits: s, length: bits };
}
