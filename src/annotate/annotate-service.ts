/**
 * images:annotate (BatchAnnotateImages): each image is fetched, decoded and run through
 * the requested features on its own, so one bad image answers its own `error` and never
 * fails its neighbours. Request-level problems (too many images, a parent outside the
 * caller's projects) fail the whole call, as Google's do.
 */
import type { Logger } from 'pino';
import type { CallContext } from '../core/context';
import { invalidArgument, resourceExhausted } from '../core/errors';
import { names } from '../core/names';
import { boxPolygon, type StatusMsg } from '../core/messages';
import type { ImageFetcher, ImageRef } from '../images/image-fetcher';
import type { ImageDecoder, DecodedImage } from '../images/image-decoder';
import type { DetectedObject, ObjectDetector } from '../vision/object-detector';
import { ImageDetection, type DetectionNeed } from '../vision/image-detection';
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
  /** Filled by the PRODUCT_SEARCH feature (src/annotate/product-search.ts). */
  productSearchResults?: unknown;
  error?: StatusMsg;
}

/** A feature computed from one decoded image; PRODUCT_SEARCH plugs in here. */
export interface FeatureHandler {
  /** What the feature needs of the image's one detection run, asked of every feature of the
   *  image before any runs (nothing: it takes no objects). */
  detects?(feature: FeatureMsg, request: AnnotateImageRequestMsg): DetectionNeed | undefined;
  run(
    img: DecodedImage,
    feature: FeatureMsg,
    request: AnnotateImageRequestMsg,
    ctx: CallContext,
    detection: ImageDetection,
  ): Promise<Partial<AnnotateImageResponseMsg>>;
}

export interface AnnotateLimits {
  maxImagesPerRequest: number;
  /** Objects returned when a feature sets no maxResults. */
  defaultMaxResults: number;
  /** Features listed for one image, duplicates included (default 32). */
  maxFeaturesPerImage?: number;
  /** Images of one project being annotated at once over all its calls (default unlimited). */
  maxImagesInFlightPerProject?: number;
}

export class AnnotateService {
  private readonly features: Map<string, FeatureHandler>;
  /** Images in flight per project (images:annotate calls only; operations have their own pace). */
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly fetcher: ImageFetcher,
    private readonly decoder: ImageDecoder,
    private readonly detector: ObjectDetector,
    private readonly limits: AnnotateLimits,
    private readonly log: Logger,
    extraFeatures: Record<string, FeatureHandler> = {},
  ) {
    this.features = new Map<string, FeatureHandler>([
      [
        'OBJECT_LOCALIZATION',
        {
          detects: (f) => ({ maxResults: f.maxResults || limits.defaultMaxResults }),
          run: async (_img, f, _req, _ctx, detection) => localizedObjects(await detection.get(f.maxResults || limits.defaultMaxResults)),
        },
      ],
      ...Object.entries(extraFeatures),
    ]);
  }

  get supportedFeatures(): string[] {
    return [...this.features.keys()];
  }

  async batchAnnotateImages(req: { requests?: AnnotateImageRequestMsg[]; parent?: string }, ctx: CallContext) {
    const requests = checkImageBatch(req, ctx, this.limits.maxImagesPerRequest);
    const project = req.parent ? names.parseProjectScope(req.parent, 'parent').project : (ctx.principal.defaultProject ?? ctx.principal.id);
    const release = this.admit(project, requests.length);
    try {
      const responses = await Promise.all(requests.map((r) => this.annotateOne(r, ctx)));
      return { responses };
    } finally {
      release();
    }
  }

  /** A per-project quota on images in flight: beyond it the call is RESOURCE_EXHAUSTED. */
  private admit(project: string, images: number): () => void {
    const limit = this.limits.maxImagesInFlightPerProject ?? Infinity;
    const now = this.inFlight.get(project) ?? 0;
    if (now + images > limit) {
      throw resourceExhausted(
        `Quota exceeded: project ${project} has ${now} images being annotated, and at most ${limit} may be at once; retry after the running calls finish.`,
      );
    }
    this.inFlight.set(project, now + images);
    return () => {
      const left = (this.inFlight.get(project) ?? images) - images;
      if (left > 0) this.inFlight.set(project, left);
      else this.inFlight.delete(project);
    };
  }

  async annotateOne(req: AnnotateImageRequestMsg, ctx: CallContext): Promise<AnnotateImageResponseMsg> {
    try {
      const features = mergeFeatures(req.features ?? [], this.limits.maxFeaturesPerImage ?? 32);
      if (features.length === 0) throw invalidArgument(`No feature requested; supported features: ${this.supportedFeatures.join(', ')}.`);
      const known = features.filter((f) => this.features.has(f.type ?? ''));
      const unknown = features.filter((f) => !this.features.has(f.type ?? '')).map((f) => f.type || 'TYPE_UNSPECIFIED');
      ctx.signal?.throwIfAborted();
      const img = known.length ? await this.decoder.decode(await this.fetcher.fetch(req.image, ctx.signal)) : undefined;
      const out: AnnotateImageResponseMsg = {};
      // Detection runs once for the image, however many of its features use the objects.
      const detection = new ImageDetection(this.detector, img!);
      for (const f of known) {
        const need = this.features.get(f.type!)!.detects?.(f, req);
        if (need) detection.need(need);
      }
      for (const f of known) {
        ctx.signal?.throwIfAborted();
        Object.assign(out, await this.features.get(f.type!)!.run(img!, f, req, ctx, detection));
      }
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

/**
 * The features of one image with duplicates merged: each type once, with the largest
 * maxResults asked (0 = the default), so repeating a feature never repeats its work. More
 * than `max` listed is INVALID_ARGUMENT.
 */
export function mergeFeatures(features: FeatureMsg[], max: number): FeatureMsg[] {
  if (features.length > max) {
    throw invalidArgument(`Too many features: ${features.length} for one image; the limit is ${max} (each feature type is computed once).`);
  }
  const byType = new Map<string, FeatureMsg>();
  for (const f of features) {
    const type = f.type ?? '';
    const seen = byType.get(type);
    if (!seen) byType.set(type, { ...f });
    else if (seen.maxResults && (!f.maxResults || f.maxResults > seen.maxResults)) seen.maxResults = f.maxResults;
  }
  return [...byType.values()];
}

function localizedObjects(found: DetectedObject[]) {
  const localizedObjectAnnotations: LocalizedObjectMsg[] = found.map((o) => ({
    mid: o.mid,
    languageCode: 'en',
    name: o.name,
    score: o.score,
    boundingPoly: boxPolygon(o.box),
  }));
  return { localizedObjectAnnotations };
}
