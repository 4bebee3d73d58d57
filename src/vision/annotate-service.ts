/**
 * images:annotate (BatchAnnotateImages): each image is fetched, decoded and run through
 * the requested features on its own, so one bad image answers its own `error` and never
 * fails its neighbours. Request-level problems (too many images, a parent outside the
 * caller's projects) fail the whole call, as Google's do.
 */
import type { Logger } from 'pino';
import type { CallContext } from '../core/context';
import { invalidArgument } from '../core/errors';
import type { StatusMsg } from '../catalog/messages';
import type { ImageFetcher, ImageRef } from '../images/image-fetcher';
import type { ImageDecoder, DecodedImage } from '../images/image-decoder';
import type { ObjectDetector } from './object-detector';
import { checkImageBatch, imageErrorStatus } from './image-batch';

export interface FeatureMsg {
  type?: string;
  maxResults?: number;
  model?: string;
}

export interface AnnotateImageRequestMsg {
  image?: ImageRef | null;
  features?: FeatureMsg[];
  imageContext?: unknown;
}

export interface LocalizedObjectMsg {
  mid: string;
  languageCode: string;
  name: string;
  score: number;
  boundingPoly: { normalizedVertices: { x: number; y: number }[] };
}

export interface AnnotateImageResponseMsg {
  localizedObjectAnnotations?: LocalizedObjectMsg[];
  /** Filled by the PRODUCT_SEARCH feature (src/search/product-search.ts). */
  productSearchResults?: unknown;
  error?: StatusMsg;
}

/** A feature computed from one decoded image; PRODUCT_SEARCH plugs in here. */
export interface FeatureHandler {
  (img: DecodedImage, feature: FeatureMsg, request: AnnotateImageRequestMsg, ctx: CallContext): Promise<Partial<AnnotateImageResponseMsg>>;
}

export interface AnnotateLimits {
  maxImagesPerRequest: number;
  /** Objects returned when a feature sets no maxResults. */
  defaultMaxResults: number;
}

export class AnnotateService {
  private readonly features: Map<string, FeatureHandler>;

  constructor(
    private readonly fetcher: ImageFetcher,
    private readonly decoder: ImageDecoder,
    detector: ObjectDetector,
    private readonly limits: AnnotateLimits,
    private readonly log: Logger,
    extraFeatures: Record<string, FeatureHandler> = {},
  ) {
    this.features = new Map<string, FeatureHandler>([
      ['OBJECT_LOCALIZATION', (img, f) => localizeObjects(detector, img, f.maxResults || limits.defaultMaxResults)],
      ...Object.entries(extraFeatures),
    ]);
  }

  get supportedFeatures(): string[] {
    return [...this.features.keys()];
  }

  async batchAnnotateImages(req: { requests?: AnnotateImageRequestMsg[]; parent?: string }, ctx: CallContext) {
    const requests = checkImageBatch(req, ctx, this.limits.maxImagesPerRequest);
    const responses = await Promise.all(requests.map((r) => this.annotateOne(r, ctx)));
    return { responses };
  }

  async annotateOne(req: AnnotateImageRequestMsg, ctx: CallContext): Promise<AnnotateImageResponseMsg> {
    try {
      const features = req.features ?? [];
      if (features.length === 0) throw invalidArgument(`No feature requested; supported features: ${this.supportedFeatures.join(', ')}.`);
      const known = features.filter((f) => this.features.has(f.type ?? ''));
      const unknown = features.filter((f) => !this.features.has(f.type ?? '')).map((f) => f.type || 'TYPE_UNSPECIFIED');
      const img = known.length ? await this.decoder.decode(await this.fetcher.fetch(req.image)) : undefined;
      const out: AnnotateImageResponseMsg = {};
      for (const f of known) Object.assign(out, await this.features.get(f.type!)!(img!, f, req, ctx));
      if (unknown.length) {
        out.error = invalidArgument(
          `Feature ${unknown.join(', ')} is not offered by Metapixel; supported features: ${this.supportedFeatures.join(', ')}.`,
        ).toStatus();
      }
      return out;
    } catch (e) {
      return { error: this.toStatus(e) };
    }
  }

  private toStatus(e: unknown): StatusMsg {
    return imageErrorStatus(e, this.log);
  }
}

async function localizeObjects(detector: ObjectDetector, img: DecodedImage, maxResults: number) {
  const found = await detector.detect(img, { maxResults });
  const localizedObjectAnnotations: LocalizedObjectMsg[] = found.map((o) => ({
    mid: o.mid,
    languageCode: 'en',
    name: o.name,
    score: o.score,
    // Four vertices, clockwise from the top-left, as Google answers.
    boundingPoly: {
      normalizedVertices: [
        { x: o.box.x0, y: o.box.y0 },
        { x: o.box.x1, y: o.box.y0 },
        { x: o.box.x1, y: o.box.y1 },
        { x: o.box.x0, y: o.box.y1 },
      ],
    },
  }));
  return { localizedObjectAnnotations };
}
