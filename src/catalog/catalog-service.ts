/**
 * The Product Search catalog: product sets, products, reference images and memberships,
 * with Google's rules. Transport-free: both adapters call these methods with the proto
 * message shapes of src/core/messages.ts and a CallContext.
 */
import { alreadyExists, invalidArgument, notFound } from '../core/errors';
import type { CallContext } from '../core/context';
import type { IndexChangeTarget, IndexFeedStore } from '../store/index-feed-store';
import type { CatalogStore, PolyRecord, ProductPatch, ProductSetRecord, ReferenceImageRecord, RegionRecord } from '../store/catalog-store';
import {
  toTimestamp,
  type FieldMaskMsg,
  type ListRequest,
  type ProductMsg,
  type ProductSetMsg,
  type ReferenceImageMsg,
} from '../core/messages';
import { names, type LocationName, type ProductName } from '../core/names';
import { paginate } from './page-token';
import * as rules from './rules';
import { productSetView, productView, referenceImageView } from './views';

export interface CatalogLimits {
  /** Google documents 100 in the proto (and 5 on its quotas page). */
  maxSetsPerProduct: number;
}

/** The local search index: applies this process's own changes before the writer answers. */
export interface IndexRefresher {
  /** Applies changes this process appended to the feed under `seqs`. */
  applyOwn(scope: LocationName, changes: readonly IndexChangeTarget[], seqs: readonly number[]): Promise<void>;
  /** When the index that search uses for the set last changed (undefined: not indexed). */
  indexTime(scope: LocationName, setId: string): Date | undefined;
}

/**
 * After a change search must see: the changes appended to the index change feed (every
 * process applies them on its next poll), and, when `index` is given, applied to this
 * process's index before the caller answers. Every writer (single calls, import, purge)
 * goes through here.
 */
export async function recordIndexChanges(
  feed: IndexFeedStore,
  scope: LocationName,
  changes: readonly IndexChangeTarget[],
  now: Date,
  index?: IndexRefresher,
): Promise<void> {
  if (changes.length === 0) return;
  const seqs = await feed.appendIndexChanges(scope, changes, now);
  await index?.applyOwn(scope, changes, seqs);
}

/** The changes a product's own change makes: one in each of its sets. */
export function productChanges(productId: string, setIds: readonly string[]): IndexChangeTarget[] {
  return setIds.map((setId) => ({ setId, productId }));
}

/**
 * Computes a reference image's regions from its pixels (the vision pipeline implements
 * it). Throws a MetapixelError when the image cannot be fetched, decoded or used.
 */
export interface ReferenceImageProcessor {
  process(uri: string, polys: readonly PolyRecord[], category: string): Promise<RegionRecord[]>;
}

type Empty = Record<string, never>;

export class CatalogService {
  constructor(
    private readonly store: CatalogStore,
    private readonly feed: IndexFeedStore,
    private readonly limits: CatalogLimits,
    private readonly processor: ReferenceImageProcessor,
    private readonly index?: IndexRefresher,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  // ---- product sets ----------------------------------------------------------------------

  async createProductSet(req: { parent?: string; productSet?: ProductSetMsg; productSetId?: string }, ctx: CallContext) {
    const scope = this.scope(req.parent, ctx);
    const id = rules.resourceId(req.productSetId, 'product_set_id');
    const displayName = rules.requiredText(req.productSet?.displayName, 'product_set.display_name');
    const now = this.clock();
    const rec = { ...scope, id, displayName, createTime: now, updateTime: now };
    if (!(await this.store.createProductSet(rec)))
      throw alreadyExists(`ProductSet ${names.productSet({ ...scope, productSet: id })} already exists.`);
    await this.changed(scope, [{ setId: id }]);
    return this.setView(rec);
  }

  async listProductSets(req: ListRequest, ctx: CallContext) {
    const scope = this.scope(req.parent, ctx);
    const page = await paginate(`productSets:${names.location(scope)}`, req.pageSize, req.pageToken, (after, limit) =>
      this.store.listProductSets(scope, { after, limit }),
    );
    return { productSets: page.items.map((r) => this.setView(r)), nextPageToken: page.nextPageToken };
  }

  async getProductSet(req: { name?: string }, ctx: CallContext) {
    const name = this.authorized(names.parseProductSet(req.name), ctx);
    const rec = await this.store.getProductSet(name);
    if (!rec) throw notFound(`ProductSet ${req.name} not found.`);
    return this.setView(rec);
  }

  async updateProductSet(req: { productSet?: ProductSetMsg; updateMask?: FieldMaskMsg | null }, ctx: CallContext) {
    const name = this.authorized(names.parseProductSet(req.productSet?.name, 'product_set.name'), ctx);
    const paths = maskPaths(req.updateMask, ['display_name'], []);
    const patch = paths.includes('display_name')
      ? { displayName: rules.requiredText(req.productSet?.displayName, 'product_set.display_name') }
      : {};
    const rec = await this.store.updateProductSet(name, patch, this.clock());
    if (!rec) throw notFound(`ProductSet ${req.productSet?.name} not found.`);
    return this.setView(rec);
  }

  async deleteProductSet(req: { name?: string }, ctx: CallContext): Promise<Empty> {
    const name = this.authorized(names.parseProductSet(req.name), ctx);
    if (!(await this.store.deleteProductSet(name))) throw notFound(`ProductSet ${req.name} not found.`);
    await this.changed(name, [{ setId: name.productSet }]);
    return {};
  }

  // ---- products --------------------------------------------------------------------------

  async createProduct(req: { parent?: string; product?: ProductMsg; productId?: string }, ctx: CallContext) {
    const scope = this.scope(req.parent, ctx);
    const p = req.product ?? {};
    const id = rules.resourceId(req.productId, 'product_id');
    const now = this.clock();
    const rec = {
      ...scope,
      id,
      displayName: rules.requiredText(p.displayName, 'product.display_name'),
      description: rules.optionalText(p.description, 'product.description', true),
      productCategory: rules.productCategory(p.productCategory),
      labels: rules.labels(p.productLabels),
      createTime: now,
      updateTime: now,
    };
    if (!(await this.store.createProduct(rec))) throw alreadyExists(`Product ${names.product({ ...scope, product: id })} already exists.`);
    return productView(rec);
  }

  async listProducts(req: ListRequest, ctx: CallContext) {
    const scope = this.scope(req.parent, ctx);
    const page = await paginate(`products:${names.location(scope)}`, req.pageSize, req.pageToken, (after, limit) =>
      this.store.listProducts(scope, { after, limit }),
    );
    return { products: page.items.map(productView), nextPageToken: page.nextPageToken };
  }

  async getProduct(req: { name?: string }, ctx: CallContext) {
    const name = this.authorized(names.parseProduct(req.name), ctx);
    const rec = await this.store.getProduct(name);
    if (!rec) throw notFound(`Product ${req.name} not found.`);
    return productView(rec);
  }

  async updateProduct(req: { product?: ProductMsg; updateMask?: FieldMaskMsg | null }, ctx: CallContext) {
    const name = this.authorized(names.parseProduct(req.product?.name, 'product.name'), ctx);
    const p = req.product ?? {};
    const paths = maskPaths(req.updateMask, ['display_name', 'description', 'product_labels'], ['product_category']);
    const patch: ProductPatch = {};
    if (paths.includes('display_name')) patch.displayName = rules.requiredText(p.displayName, 'product.display_name');
    if (paths.includes('description')) patch.description = rules.optionalText(p.description, 'product.description', true);
    if (paths.includes('product_labels')) patch.labels = rules.labels(p.productLabels);
    const rec = await this.store.updateProduct(name, patch, this.clock());
    if (!rec) throw notFound(`Product ${req.product?.name} not found.`);
    await this.changed(name, productChanges(name.product, await this.store.listSetsOfProduct(name)));
    return productView(rec);
  }

  async deleteProduct(req: { name?: string }, ctx: CallContext): Promise<Empty> {
    const name = this.authorized(names.parseProduct(req.name), ctx);
    const sets = await this.store.listSetsOfProduct(name);
    if (!(await this.store.deleteProduct(name))) throw notFound(`Product ${req.name} not found.`);
    await this.changed(name, productChanges(name.product, sets));
    return {};
  }

  // ---- reference images ------------------------------------------------------------------

  async createReferenceImage(req: { parent?: string; referenceImage?: ReferenceImageMsg; referenceImageId?: string }, ctx: CallContext) {
    const product = this.authorized(names.parseProduct(req.parent, 'parent'), ctx);
    const ri = req.referenceImage ?? {};
    const id = rules.resourceId(req.referenceImageId, 'reference_image_id');
    const uri = rules.imageUri(ri.uri);
    const boundingPolys = rules.referencePolys(ri.boundingPolys);
    // Google answers INVALID_ARGUMENT (not NOT_FOUND) when the parent product is missing.
    const productRec = await this.store.getProduct(product);
    if (!productRec) throw invalidArgument(`Product ${req.parent} does not exist.`);
    if (await this.store.getReferenceImage({ ...product, referenceImage: id })) {
      throw alreadyExists(`ReferenceImage ${names.referenceImage({ ...product, referenceImage: id })} already exists.`);
    }
    // The pixels are processed before anything is stored: a created image is searchable
    // at once, and an image that cannot be used fails the call and leaves nothing behind.
    const regions = await this.processor.process(uri, boundingPolys, productRec.productCategory);
    const rec: ReferenceImageRecord = {
      project: product.project,
      location: product.location,
      productId: product.product,
      id,
      uri,
      boundingPolys,
      createTime: this.clock(),
      state: 'READY',
      regions,
    };
    if (!(await this.store.createReferenceImage(rec))) {
      // Refused either because the id was taken meanwhile or because the product was deleted
      // while the pixels were processed: say which.
      if (!(await this.store.getProduct(product)))
        throw invalidArgument(`Product ${req.parent} does not exist (it was deleted while the image was being processed).`);
      throw alreadyExists(`ReferenceImage ${names.referenceImage({ ...product, referenceImage: rec.id })} already exists.`);
    }
    await this.changed(product, productChanges(product.product, await this.store.listSetsOfProduct(product)));
    return referenceImageView(rec);
  }

  async listReferenceImages(req: ListRequest, ctx: CallContext) {
    const product = this.authorized(names.parseProduct(req.parent, 'parent'), ctx);
    const page = await paginate(`referenceImages:${req.parent}`, req.pageSize, req.pageToken, async (after, limit) => {
      const rows = await this.store.listReferenceImages(product, { after, limit });
      if (rows.length === 0 && !(await this.store.getProduct(product))) throw notFound(`Product ${req.parent} not found.`);
      return rows;
    });
    return { referenceImages: page.items.map(referenceImageView), pageSize: page.items.length, nextPageToken: page.nextPageToken };
  }

  async getReferenceImage(req: { name?: string }, ctx: CallContext) {
    const name = this.authorized(names.parseReferenceImage(req.name), ctx);
    const rec = await this.store.getReferenceImage(name);
    if (!rec) throw notFound(`ReferenceImage ${req.name} not found.`);
    return referenceImageView(rec);
  }

  async deleteReferenceImage(req: { name?: string }, ctx: CallContext): Promise<Empty> {
    const name = this.authorized(names.parseReferenceImage(req.name), ctx);
    if (!(await this.store.deleteReferenceImage(name))) throw notFound(`ReferenceImage ${req.name} not found.`);
    await this.changed(name, productChanges(name.product, await this.store.listSetsOfProduct(name)));
    return {};
  }

  // ---- memberships -----------------------------------------------------------------------

  async addProductToProductSet(req: { name?: string; product?: string }, ctx: CallContext): Promise<Empty> {
    const set = this.authorized(names.parseProductSet(req.name), ctx);
    const product = this.sameScope(set, names.parseProduct(req.product, 'product'));
    const [setRec, productRec] = await Promise.all([this.store.getProductSet(set), this.store.getProduct(product)]);
    if (!setRec) throw notFound(`ProductSet ${req.name} not found.`);
    if (!productRec) throw notFound(`Product ${req.product} not found.`);
    const sets = await this.store.listSetsOfProduct(product);
    if (sets.includes(set.productSet)) return {};
    rules.roomForAnotherSet(req.product!, sets.length, this.limits.maxSetsPerProduct);
    await this.store.addProductToSet(set, product.product);
    await this.changed(set, [{ setId: set.productSet, productId: product.product }]);
    return {};
  }

  async removeProductFromProductSet(req: { name?: string; product?: string }, ctx: CallContext): Promise<Empty> {
    const set = this.authorized(names.parseProductSet(req.name), ctx);
    const product = this.sameScope(set, names.parseProduct(req.product, 'product'));
    const [setRec, productRec] = await Promise.all([this.store.getProductSet(set), this.store.getProduct(product)]);
    if (!setRec) throw notFound(`ProductSet ${req.name} not found.`);
    if (!productRec) throw notFound(`Product ${req.product} not found.`);
    if (await this.store.removeProductFromSet(set, product.product))
      await this.changed(set, [{ setId: set.productSet, productId: product.product }]);
    return {};
  }

  async listProductsInProductSet(req: ListRequest, ctx: CallContext) {
    const set = this.authorized(names.parseProductSet(req.name), ctx);
    // A missing set lists as empty, as Google does.
    const page = await paginate(`productsInSet:${req.name}`, req.pageSize, req.pageToken, (after, limit) =>
      this.store.listProductsInSet(set, { after, limit }),
    );
    return { products: page.items.map(productView), nextPageToken: page.nextPageToken };
  }

  // ---- helpers ---------------------------------------------------------------------------

  /** After a change search must see: recorded in the feed, applied here before answering. */
  private changed(scope: LocationName, changes: readonly IndexChangeTarget[]): Promise<void> {
    return recordIndexChanges(this.feed, scope, changes, this.clock(), this.index);
  }

  /** indexTime tells what search sees: when this process last built the set's index. */
  private setView(rec: ProductSetRecord) {
    const t = this.index?.indexTime(rec, rec.id);
    return productSetView(rec, t ? toTimestamp(t) : undefined);
  }

  private scope(parent: string | undefined, ctx: CallContext): LocationName {
    return this.authorized(names.parseLocation(parent), ctx);
  }

  private authorized<T extends { project: string }>(name: T, ctx: CallContext): T {
    ctx.principal.assertProject(name.project);
    return name;
  }

  private sameScope(scope: LocationName, product: ProductName): ProductName {
    if (product.project !== scope.project || product.location !== scope.location) {
      throw invalidArgument('The product must be in the same project and location as the product set.');
    }
    return product;
  }
}

/**
 * Update-mask paths in snake_case (clients send either case). No mask means every
 * updatable field; a path naming an immutable or unknown field is INVALID_ARGUMENT.
 */
function maskPaths(mask: FieldMaskMsg | null | undefined, updatable: string[], immutable: string[]): string[] {
  const paths = (mask?.paths ?? []).map((p) => p.trim().replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())).filter(Boolean);
  if (paths.length === 0) return updatable;
  for (const p of paths) {
    if (immutable.includes(p)) throw invalidArgument(`update_mask: field "${p}" is immutable.`);
    if (!updatable.includes(p))
      throw invalidArgument(`update_mask: field "${p}" cannot be updated; updatable fields are ${updatable.join(', ')}.`);
  }
  return paths;
}
