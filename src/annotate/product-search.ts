/**
 * PRODUCT_SEARCH in images:annotate. With a boundingPoly, that region of the query image is
 * searched. Without one, the query is searched through several regions at once
 * (regions/region-proposals.ts): the whole image, the image turned a quarter either way, a
 * picture pasted into it (regions/inset-boxes.ts), windows pooled from the embedder's feature
 * map, and the detected objects that stand for products of the category; a product's
 * similarity is its best pair of query region and indexed region, with matches through
 * parts discounted (REGION_PENALTY); the best of those lose a part of their resemblance to
 * the query's windows as a whole (CONTRAST_WEIGHT), and `results` ranks products by that.
 * Each object region is also one `productGroupedResults` entry of its own, as Google
 * answers. The reported score is that similarity on the scale of score-scale.ts, where 0.5
 * is the recommended threshold between matches and photos of nothing in the catalog
 * (docs/search.md).
 */
import type { CallContext } from '../core/context';
import { failedPrecondition, invalidArgument, notFound } from '../core/errors';
import { names } from '../core/names';
import { PRODUCT_CATEGORIES } from '../catalog/rules';
import { productView } from '../catalog/views';
import { boxPolygon, toTimestamp, type BoundingPolyMsg } from '../core/messages';
import type { DecodedImage } from '../images/image-decoder';
import type { Embedder } from '../vision/embedder';
import { rotateQuarter } from '../vision/preprocess';
import type { DetectedObject } from '../vision/object-detector';
import type { AnnotateImageRequestMsg, FeatureHandler, FeatureMsg } from './annotate-service';
import type { ImageDetection } from '../vision/image-detection';
import type { Box } from '../vision/box';
import { mapLimit } from '../core/concurrency';
import { shardOf, type CatalogIndex } from '../search/catalog-index';
import type { Contrast, LocalScaling } from '../search/product-set-index';
import { labelPredicate, parseLabelFilter } from '../search/label-filter';
import { canonicalCategory } from '../regions/categories';
import { QUERY_NORM_RANK, queryShift, reportedScore } from '../search/score-scale';
import { insetBox } from '../regions/inset-boxes';
import {
  categoryRegions,
  IntegralMap,
  pooledWindowBoxes,
  WHOLE_BOX,
  WINDOW_MAP_SIDE,
  type QueryRegion,
  type RegionKind,
} from '../regions/region-proposals';

/**
 * Discount of a match made through a part of the query rather than the whole of it: a
 * window or object of one photo resembles a whole other photo more often than two whole
 * photos do (fitted on the dev split of the end-to-end eval, docs/search.md). An inset is a
 * whole picture of its own, and undiscounted did best there.
 */
export const REGION_PENALTY: Readonly<Record<RegionKind, number>> = {
  whole: 0,
  rotated: 0.08,
  object: 0,
  garment: 0,
  window: 0.04,
  inset: 0,
};
/**
 * How much of a product's resemblance to the query's windows as a whole (their median) is
 * taken off its score, over the best CONTRAST_POOL products (product-set-index.ts,
 * Contrast): a scene-like product that every window resembles a little stops winning over
 * the product the query is of. Fitted on the dev split of the end-to-end eval with the
 * normalisation rank (docs/search.md, "Contrast").
 */
export const CONTRAST_WEIGHT = 0.25;
export const CONTRAST_POOL = 20;
/** Above this score the contrast tapers off, to nothing at 1: a photo of the product itself
 *  resembles its own windows, and keeps the score of an exact match. */
export const CONTRAST_FULL_BELOW = 0.85;
/**
 * Each query region's similarities are scaled by its level, its 3rd best product's
 * similarity (product-set-index.ts, LocalScaling): 0.25 of the level's excess over 0.56,
 * the median level of the eval's query regions, tapered as the contrast is. Fitted on the
 * end-to-end eval with the contrast in place (docs/search.md, "Local scaling"). Only the
 * default path, where the query has many regions, uses it.
 */
export const LOCAL_SCALING: LocalScaling = { rank: 3, weight: 0.25, typical: 0.56, fullBelow: CONTRAST_FULL_BELOW };
/** A query whose longer side is at most this many pixels is low-resolution: it is also
 *  compared with the indexed thumbnails (SMALL_VIEW_SIDE 128, so up to 2.5 times that). */
export const LOW_RES_SIDE = 320;
/** Query regions embedded at once per request: one request never floods the inference queue. */
const EMBED_LANES = 2;

interface ProductSearchParamsMsg {
  productSet?: string;
  productCategories?: string[];
  filter?: string;
  boundingPoly?: BoundingPolyMsg | null;
}

export class ProductSearch {
  constructor(
    private readonly index: CatalogIndex,
    private readonly embedder: Embedder,
    private readonly defaultMaxResults: number,
    /** Regions one query image is searched with, all kinds counted (METAPIXEL_MAX_REGIONS_PER_IMAGE). */
    private readonly maxRegions = Infinity,
  ) {}

  /**
   * The views of a query that need no detection, with their embeddings: the whole image,
   * the image turned a quarter either way (a phone held sideways), the picture inset in it
   * when it has one (a product photo pasted into a scene, a screenshot) and the windows
   * pooled from the feature map; at most `room` of them, in that order (the feature map is
   * not computed when no window fits).
   */
  private async views(img: DecodedImage, room: number): Promise<{ regions: QueryRegion[]; vectors: Float32Array[] }> {
    // Turned after the stretch to the (square) input size: the same samples as stretching
    // the turned image, for a 224x224 rotation instead of a full-size one.
    const small = await this.embedder.toInputSize(img);
    const inputs = [small, rotateQuarter(small, true), rotateQuarter(small, false)].slice(0, room);
    const views: (() => Promise<{ region: QueryRegion; vector: Float32Array } | undefined>)[] = inputs.map((input, i) => async () => ({
      region: { kind: i === 0 ? 'whole' : 'rotated', box: WHOLE_BOX },
      vector: await this.embedder.embed(input),
    }));
    // Looked for once a lane is free, so that it takes its few milliseconds while the
    // other lane's embedding runs.
    if (room > inputs.length)
      views.push(async () => {
        const inset = insetBox(img);
        return inset && { region: { kind: 'inset', box: inset.box }, vector: await this.embedder.embed(img, inset.box) };
      });
    const found = (await mapLimit(views, EMBED_LANES, (view) => view())).filter((v) => v !== undefined);
    const regions = found.map((v) => v.region);
    const vectors = found.map((v) => v.vector);
    if (!this.embedder.hasFeatureMap || room <= vectors.length) return { regions, vectors };
    const map = await this.embedder.featureMap(img, WINDOW_MAP_SIDE);
    const integral = new IntegralMap(map);
    for (const box of spread(pooledWindowBoxes(map.h), room - vectors.length)) {
      regions.push({ kind: 'window', box });
      vectors.push(integral.pool(box));
    }
    return { regions, vectors };
  }

  /** The annotate feature handler. */
  readonly feature: FeatureHandler = {
    // Detection takes one look (no mirrored second look) when this feature is the only one
    // asking: objects are a few of the query's regions here, and the whole image and
    // windows cover what a second look would add. With OBJECT_LOCALIZATION beside it, its
    // objects are the localized ones (one run for both).
    detects: (_f, req) => {
      const poly = searchParams(req).boundingPoly;
      return (poly && hasVertices(poly)) || this.objectRoom() === 0 ? undefined : { maxResults: this.defaultMaxResults, mirror: 'never' };
    },
    run: (img, f, req, ctx, detection) => this.handle(img, f, req, ctx, detection),
  };

  /** Objects a query may add under the region cap, after the whole image and its quarter turns. */
  private objectRoom(): number {
    return Math.max(0, Math.max(1, this.maxRegions) - 3);
  }

  private async handle(img: DecodedImage, feature: FeatureMsg, req: AnnotateImageRequestMsg, ctx: CallContext, detection: ImageDetection) {
    const params = searchParams(req);
    const set = names.parseProductSet(params.productSet, 'image_context.product_search_params.product_set');
    ctx.principal.assertProject(set.project);
    const category = params.productCategories?.[0];
    if (!category) throw invalidArgument('image_context.product_search_params.product_categories must name a category.');
    if (!(PRODUCT_CATEGORIES as readonly string[]).includes(category)) {
      throw invalidArgument(`Invalid product category "${category}": must be one of ${PRODUCT_CATEGORIES.join(', ')}.`);
    }
    const labelFilter = parseLabelFilter(params.filter ?? '');
    const accept = labelPredicate(labelFilter);
    const entry = this.index.get(set, set.productSet);
    if (!entry && !this.index.holds(set, set.productSet)) {
      const shard = this.index.shard!;
      const owner = shardOf(set.project, set.location, set.productSet, shard.count);
      throw failedPrecondition(
        `ProductSet ${params.productSet} is searched by index shard ${owner}/${shard.count}; this replica holds shard ${shard.index}/${shard.count}.`,
      );
    }
    if (!entry) throw notFound(`ProductSet ${params.productSet} not found.`);
    const k = feature.maxResults || this.defaultMaxResults;
    const wanted = canonicalCategory(category);
    // Keyed, so the set's index keeps each product's verdict from one search to the next.
    const filter = {
      key: JSON.stringify([wanted, labelFilter]),
      accept: (labels: Parameters<typeof accept>[0], c: string) => canonicalCategory(c) === wanted && accept(labels),
    };
    // Every search finds at least QUERY_NORM_RANK products, so its scores can be normalised.
    const search = (queries: Parameters<typeof entry.index.searchProducts>[0], contrast?: Contrast, scaling?: LocalScaling) => {
      const hits = entry.index.searchProducts(queries, Math.max(k, QUERY_NORM_RANK), filter, contrast, scaling);
      const shift = queryShift(hits.map((h) => h.similarity));
      return hits.slice(0, k).map((h) => ({
        product: productView(entry.index.product(h.region.productId)!),
        score: reportedScore(h.similarity + shift),
        image: names.referenceImage({ ...set, product: h.region.productId, referenceImage: h.region.imageId }),
      }));
    };
    const embed = (r: { box?: Box }) => this.embedder.embed(img, r.box);

    const indexTime = toTimestamp(entry.indexTime);
    if (params.boundingPoly && hasVertices(params.boundingPoly)) {
      const box = polyToBox(params.boundingPoly, img);
      const results = search(await embed({ box }));
      return {
        productSearchResults: {
          indexTime,
          results,
          productGroupedResults: [{ boundingPoly: boxPolygon(box), results, objectAnnotations: [] }],
        },
      };
    }
    // Everything but the objects needs no detection: it is embedded while detection runs.
    // Under the region cap the whole image and its quarter turns come first, then the
    // objects (best first), then the inset, then windows; a kind with no room left is not
    // computed (but the inset is looked for before the objects are known, so a cap that
    // objects fill drops it after its embedding).
    const cap = Math.max(1, this.maxRegions);
    const objectRoom = this.objectRoom();
    const [objects, viewsAll] = await Promise.all([
      objectRoom ? detection.get(this.defaultMaxResults).then((o) => categoryRegions(o, category).slice(0, objectRoom)) : [],
      this.views(img, cap),
    ]);
    // Windows fill only what the objects left (the feature map was pooled in parallel).
    const views = { regions: viewsAll.regions.slice(0, cap - objects.length), vectors: viewsAll.vectors.slice(0, cap - objects.length) };
    const objectVectors = await mapLimit(objects, EMBED_LANES, embed);
    const regions = [...views.regions, ...objects];
    const vectors = [...views.vectors, ...objectVectors];
    // Thumbnails stand in for what a low-resolution query looks like; a sharp query is not
    // compared with them (they would only add blurry look-alikes).
    const thumbnails = Math.max(img.originalWidth, img.originalHeight) <= LOW_RES_SIDE;
    const context = regions.flatMap((r, i) => (r.kind === 'window' ? [i] : []));
    // All regions projected at once (one onnxruntime run), for `results` and the groups alike.
    const prepared = await this.index.prepare(vectors);
    const results = search(
      regions.map((r, i) => ({
        embedding: vectors[i],
        penalty: REGION_PENALTY[r.kind],
        thumbnails,
        secondary: r.kind === 'window',
        prepared: prepared?.[i],
      })),
      { context, weight: CONTRAST_WEIGHT, pool: CONTRAST_POOL, fullBelow: CONTRAST_FULL_BELOW },
      LOCAL_SCALING,
    );
    const productGroupedResults = objects.map((r, i) => ({
      boundingPoly: boxPolygon(r.box),
      results: search([{ embedding: objectVectors[i], penalty: 0, prepared: prepared?.[views.regions.length + i] }]),
      objectAnnotations: [annotation(r)],
    }));
    return { productSearchResults: { indexTime, results, productGroupedResults } };
  }
}

function searchParams(req: AnnotateImageRequestMsg): ProductSearchParamsMsg {
  return (req.imageContext as { productSearchParams?: ProductSearchParamsMsg } | null)?.productSearchParams ?? {};
}

/** `n` of `items` spread evenly over the list (all of them when n >= length). */
function spread<T>(items: readonly T[], n: number): T[] {
  if (n >= items.length) return [...items];
  return Array.from({ length: Math.max(0, n) }, (_, i) => items[Math.floor((i * items.length) / n)]);
}

/** Open Images' Clothing, the name a person's garment region is annotated with. */
const CLOTHING = { mid: '/m/09j2d', name: 'Clothing' };

export function hasVertices(p: BoundingPolyMsg): boolean {
  return (p.vertices?.length ?? 0) > 0 || (p.normalizedVertices?.length ?? 0) > 0;
}

/** A query polygon (pixel or normalized) as a normalized axis-aligned box. */
export function polyToBox(p: BoundingPolyMsg, img: DecodedImage, field = 'image_context.product_search_params.bounding_poly'): Box {
  const norm = p.normalizedVertices?.length
    ? p.normalizedVertices
    : (p.vertices ?? []).map((v) => ({ x: (v.x ?? 0) / img.originalWidth, y: (v.y ?? 0) / img.originalHeight }));
  const xs = norm.map((v) => Math.max(0, Math.min(1, v.x ?? 0)));
  const ys = norm.map((v) => Math.max(0, Math.min(1, v.y ?? 0)));
  const box = { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
  if (box.x1 - box.x0 <= 0 || box.y1 - box.y0 <= 0) throw invalidArgument(`${field} encloses no area.`);
  return box;
}

function annotation(r: QueryRegion & { object?: DetectedObject }) {
  const o = r.object!;
  const what = r.kind === 'garment' ? CLOTHING : { mid: o.mid, name: o.name };
  return { ...what, languageCode: 'en', score: o.score };
}
