/**
 * What `metapixel migrate` has to do: the source catalog compared with the target's,
 * resource by resource (ids are kept, so a resource's id is its identity on both sides).
 * Missing on the target -> create; present and equal -> skip; present and different ->
 * update where the API allows (a set's display name; a product's display name, description
 * and labels), otherwise a conflict, reported and left alone (a product's category and a
 * reference image cannot be updated).
 */
import { MAX_POLYS_PER_IMAGE } from '../catalog/rules';
import { checkRectangle } from '../core/rectangle-rule';
import type { Catalog, ImageData, Poly, ProductData } from './migrate-catalog';

/** In the order they are copied: a product before its images, both before memberships. */
export const KINDS = ['productSets', 'products', 'referenceImages', 'memberships'] as const;
export type Kind = (typeof KINDS)[number];

export const KIND_LABEL: Record<Kind, string> = {
  productSets: 'product sets',
  products: 'products',
  referenceImages: 'reference images',
  memberships: 'memberships',
};

export type Call =
  | { rpc: 'createProductSet'; setId: string; displayName: string }
  | { rpc: 'updateProductSet'; setId: string; displayName: string }
  | { rpc: 'createProduct'; productId: string; product: ProductData }
  | { rpc: 'updateProduct'; productId: string; product: ProductData; mask: string[] }
  | { rpc: 'createReferenceImage'; productId: string; imageId: string; image: ImageData }
  | { rpc: 'addProductToProductSet'; setId: string; productId: string };

export interface Step {
  kind: Kind;
  /** The target resource (for a membership: the set, then the product). */
  name: string;
  op: 'create' | 'update' | 'conflict';
  /** What differs (update, conflict). */
  detail?: string;
  call?: Call;
  /** Target resources this step needs that this run creates first: if those fail, it is not tried. */
  after: string[];
}

export interface Plan {
  steps: Step[];
  /** Resources already on the target as on the source. */
  skipped: Record<Kind, number>;
}

export interface PlanOptions {
  /** Images are created without polygons (the target finds the regions); polygons are not compared. */
  detectRegions: boolean;
}

export function planMigration(source: Catalog, target: Catalog, parent: string, opts: PlanOptions): Plan {
  const steps: Step[] = [];
  const skipped: Record<Kind, number> = { productSets: 0, products: 0, referenceImages: 0, memberships: 0 };
  const setName = (id: string) => `${parent}/productSets/${id}`;
  const productName = (id: string) => `${parent}/products/${id}`;
  const createdSets = new Set<string>();
  const createdProducts = new Set<string>();

  for (const [id, displayName] of source.sets) {
    const have = target.sets.get(id);
    if (have === undefined) {
      createdSets.add(id);
      steps.push({
        kind: 'productSets',
        name: setName(id),
        op: 'create',
        call: { rpc: 'createProductSet', setId: id, displayName },
        after: [],
      });
    } else if (have !== displayName) {
      steps.push({
        kind: 'productSets',
        name: setName(id),
        op: 'update',
        detail: 'displayName',
        call: { rpc: 'updateProductSet', setId: id, displayName },
        after: [],
      });
    } else skipped.productSets++;
  }

  for (const [id, product] of source.products) {
    const have = target.products.get(id);
    if (!have) {
      createdProducts.add(id);
      steps.push({
        kind: 'products',
        name: productName(id),
        op: 'create',
        call: { rpc: 'createProduct', productId: id, product },
        after: [],
      });
      continue;
    }
    if (have.productCategory !== product.productCategory) {
      const detail = `productCategory is ${have.productCategory} on the target, ${product.productCategory} on the source, and cannot be updated: delete the product on the target, then rerun`;
      steps.push({ kind: 'products', name: productName(id), op: 'conflict', detail, after: [] });
      continue;
    }
    const mask = [
      ...(have.displayName !== product.displayName ? ['display_name'] : []),
      ...(have.description !== product.description ? ['description'] : []),
      ...(labelKey(have.labels) !== labelKey(product.labels) ? ['product_labels'] : []),
    ];
    if (mask.length)
      steps.push({
        kind: 'products',
        name: productName(id),
        op: 'update',
        detail: mask.join(', '),
        call: { rpc: 'updateProduct', productId: id, product, mask },
        after: [],
      });
    else skipped.products++;
  }

  for (const [productId, images] of source.images) {
    const have = target.images.get(productId);
    const after = createdProducts.has(productId) ? [productName(productId)] : [];
    for (const [imageId, image] of images) {
      const name = `${productName(productId)}/referenceImages/${imageId}`;
      const existing = have?.get(imageId);
      // Polygons the API would refuse as input are the source's own detection: the target detects its own.
      const detect = opts.detectRegions || !couldBeGiven(image.boundingPolys);
      if (!existing) {
        const wanted = detect ? { uri: image.uri, boundingPolys: [] } : image;
        const detail =
          detect && !opts.detectRegions ? "regions detected by the target: the listed polygons are the source's detection" : undefined;
        steps.push({
          kind: 'referenceImages',
          name,
          op: 'create',
          ...(detail ? { detail } : {}),
          call: { rpc: 'createReferenceImage', productId, imageId, image: wanted },
          after,
        });
        continue;
      }
      const differs =
        existing.uri !== image.uri
          ? `uri is ${existing.uri} on the target, ${image.uri} on the source`
          : !detect && polysKey(existing.boundingPolys) !== polysKey(image.boundingPolys)
            ? 'boundingPolys differ'
            : undefined;
      if (differs)
        steps.push({
          kind: 'referenceImages',
          name,
          op: 'conflict',
          detail: `${differs}; reference images cannot be updated: delete it on the target, then rerun`,
          after,
        });
      else skipped.referenceImages++;
    }
  }

  for (const [setId, productIds] of source.members) {
    const have = target.members.get(setId);
    for (const productId of productIds) {
      if (have?.has(productId)) {
        skipped.memberships++;
        continue;
      }
      const after = [
        ...(createdSets.has(setId) ? [setName(setId)] : []),
        ...(createdProducts.has(productId) ? [productName(productId)] : []),
      ];
      steps.push({
        kind: 'memberships',
        name: `${setName(setId)} <- ${productName(productId)}`,
        op: 'create',
        call: { rpc: 'addProductToProductSet', setId, productId },
        after,
      });
    }
  }
  return { steps, skipped };
}

/** Labels compare as a multiset: the order a server lists them in carries no meaning. */
const labelKey = (labels: ProductData['labels']) => JSON.stringify(labels.map((l) => [l.key, l.value]).sort());

const polysKey = (polys: Poly[]) =>
  JSON.stringify(polys.map((p) => (p.vertices?.length ? { v: p.vertices } : { n: p.normalizedVertices ?? [] })));

/**
 * Whether listed polygons could have been given by a caller. A server lists the regions it
 * detected when none were given, and those may break the input rules (at most 10; pixel
 * rectangles at least 300 px on the short side, no worse than 1:4): copied as given they
 * would be refused. Normalized polygons cannot be checked without the image's size.
 */
export function couldBeGiven(polys: Poly[]): boolean {
  if (polys.length > MAX_POLYS_PER_IMAGE) return false;
  try {
    for (const p of polys) if (p.vertices?.length) checkRectangle(p.vertices, 1, 'bounding_polys');
    return true;
  } catch {
    return false;
  }
}
