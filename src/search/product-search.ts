/**
 * PRODUCT_SEARCH in images:annotate. With a boundingPoly, that region of the query image is
 * searched. Without one, the query's objects are detected; each object whose class fits
 * the searched category is one `productGroupedResults` entry, and `results` answers the
 * largest of them (the whole image when none fits), as Google does. Scores are the cosine
 * similarity of the unit-length embeddings, clamped to [0, 1]: the same number means the
 * same closeness in every query.
 */
import type { CallContext } from '../core/context';
import { invalidArgument, notFound } from '../core/errors';
import { names } from '../catalog/names';
import { PRODUCT_CATEGORIES } from '../catalog/rules';
import { productView } from '../catalog/views';
import { toTimestamp, type BoundingPolyMsg } from '../catalog/messages';
import type { DecodedImage } from '../images/image-decoder';
import type { Embedder } from '../vision/embedder';
import type { DetectedObject, ObjectDetector } from '../vision/object-detector';
import type { AnnotateImageRequestMsg, FeatureMsg } from '../vision/annotate-service';
import type { Box } from '../vision/box';
import type { CatalogIndex } from './catalog-index';
import { labelPredicate, parseLabelFilter } from './label-filter';
import { canonicalCategory, classesForCategory } from './regions';

interface ProductSearchParamsMsg {
  productSet?: string;
  productCategories?: string[];
  filter?: string;
  boundingPoly?: BoundingPolyMsg | null;
}

export class ProductSearch {
  constructor(
    private readonly index: CatalogIndex,
    private readonly detector: ObjectDetector,
    private readonly embedder: Embedder,
    private readonly defaultMaxResults: number,
  ) {}

  /** The annotate feature handler. */
  readonly handle = async (img: DecodedImage, feature: FeatureMsg, req: AnnotateImageRequestMsg, ctx: CallContext) => {
    const params = ((req.imageContext as { productSearchParams?: ProductSearchParamsMsg } | null)?.productSearchParams ?? {}) as ProductSearchParamsMsg;
    const set = names.parseProductSet(params.productSet, 'image_context.product_search_params.product_set');
    ctx.principal.assertProject(set.project);
    const category = params.productCategories?.[0];
    if (!category) throw invalidArgument('image_context.product_search_params.product_categories must name a category.');
    if (!(PRODUCT_CATEGORIES as readonly string[]).includes(category)) {
      throw invalidArgument(`Invalid product category "${category}": must be one of ${PRODUCT_CATEGORIES.join(', ')}.`);
    }
    const accept = labelPredicate(parseLabelFilter(params.filter ?? ''));
    const entry = this.index.get(set, set.productSet);
    if (!entry) throw notFound(`ProductSet ${params.productSet} not found.`);
    const k = feature.maxResults || this.defaultMaxResults;
    const sameCategory = (c: string) => canonicalCategory(c) === canonicalCategory(category);
    const search = async (box?: Box) => {
      const hits = entry.index.searchProducts(await this.embedder.embed(img, box), k, (labels, c) => sameCategory(c) && accept(labels));
      return hits.map((h) => ({
        product: productView(entry.index.product(h.region.productId)!),
        score: Math.max(0, Math.min(1, h.similarity)),
        image: names.referenceImage({ ...set, product: h.region.productId, referenceImage: h.region.imageId }),
      }));
    };

    const indexTime = toTimestamp(entry.indexTime);
    if (params.boundingPoly && hasVertices(params.boundingPoly)) {
      const box = polyToBox(params.boundingPoly, img);
      const results = await search(box);
      return { productSearchResults: { indexTime, results, productGroupedResults: [{ boundingPoly: boxPoly(box), results, objectAnnotations: [] }] } };
    }
    const fits = classesForCategory(category);
    const objects = (await this.detector.detect(img)).filter((o) => fits === 'any' || fits.includes(o.name));
    const groups = await Promise.all(
      objects.map(async (o) => ({ boundingPoly: boxPoly(o.box), results: await search(o.box), objectAnnotations: [annotation(o)] })),
    );
    const main = largest(objects);
    const results = main ? groups[objects.indexOf(main)].results : await search();
    return { productSearchResults: { indexTime, results, productGroupedResults: groups } };
  };
}


function hasVertices(p: BoundingPolyMsg): boolean {
  return (p.vertices?.length ?? 0) > 0 || (p.normalizedVertices?.length ?? 0) > 0;
}

/** A query polygon (pixel or normalized) as a normalized axis-aligned box. */
function polyToBox(p: BoundingPolyMsg, img: DecodedImage): Box {
  const norm = p.normalizedVertices?.length
    ? p.normalizedVertices
    : (p.vertices ?? []).map((v) => ({ x: (v.x ?? 0) / img.originalWidth, y: (v.y ?? 0) / img.originalHeight }));
  const xs = norm.map((v) => Math.max(0, Math.min(1, v.x ?? 0)));
  const ys = norm.map((v) => Math.max(0, Math.min(1, v.y ?? 0)));
  const box = { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
  if (box.x1 - box.x0 <= 0 || box.y1 - box.y0 <= 0) throw invalidArgument('image_context.product_search_params.bounding_poly encloses no area.');
  return box;
}

function boxPoly(b: Box): BoundingPolyMsg {
  return { normalizedVertices: [{ x: b.x0, y: b.y0 }, { x: b.x1, y: b.y0 }, { x: b.x1, y: b.y1 }, { x: b.x0, y: b.y1 }] };
}

function annotation(o: DetectedObject) {
  return { mid: o.mid, languageCode: 'en', name: o.name, score: o.score };
}

function largest(objects: DetectedObject[]): DetectedObject | undefined {
  const area = (o: DetectedObject) => (o.box.x1 - o.box.x0) * (o.box.y1 - o.box.y0);
  return objects.reduce<DetectedObject | undefined>((best, o) => (!best || area(o) > area(best) ? o : best), undefined);
}
