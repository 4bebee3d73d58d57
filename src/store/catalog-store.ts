/**
 * The catalog's storage port: product sets, products, reference images and memberships.
 * Operations (operation-store.ts) and the index change feed (index-feed-store.ts) are
 * ports of their own; `src/store/sqlite` (embedded, the default) and `src/store/mongo`
 * implement all three over one connection (stores.ts), and `test/store/contract.ts` runs
 * one conformance suite per port that both must pass.
 *
 * Contract, for every implementation of every store port:
 * - A method resolves only once its write is durable (fsync'd / majority-acknowledged).
 * - Lists are keyset-paginated: records whose id is strictly greater than `after`, in
 *   ascending code-point order of id, at most `limit` of them. Ids never contain '/'.
 * - Scopes never leak: a record is only ever returned for its own project and location.
 * - Dates are JS Dates with millisecond precision.
 */
import type { LocationName, ProductName, ProductSetName, ReferenceImageName } from '../core/names';

export interface KeyValue {
  key: string;
  value: string;
}

/** A pixel-space vertex; reference image polygons are stored as Google returns them. */
export interface Vertex {
  x: number;
  y: number;
}

/** A caller-given polygon: pixel vertices, or normalized ones ([0,1], resolved at ingestion). */
export interface PolyRecord {
  vertices: Vertex[];
  normalized: boolean;
}

export interface StatusRecord {
  code: number;
  message: string;
}

export interface ProductSetRecord extends LocationName {
  id: string;
  displayName: string;
  createTime: Date;
  updateTime: Date;
}

/** A product set's key, as listProductSetKeys enumerates every scope's sets. */
export interface ProductSetKey extends LocationName {
  id: string;
}

export interface ProductRecord extends LocationName {
  id: string;
  displayName: string;
  description: string;
  productCategory: string;
  labels: KeyValue[];
  createTime: Date;
  updateTime: Date;
}

/** Per-region results computed from the image's pixels (filled by ingestion). */
export interface RegionRecord {
  /** Axis-aligned box in pixels of the (EXIF-oriented) image. */
  box: { x0: number; y0: number; x1: number; y1: number };
  /** Where the box came from: the caller's poly, a detected object, a detected person's
   *  garment, the whole image, or the whole image as a thumbnail (a view of it, same box). */
  source: 'request' | 'detected' | 'garment' | 'whole-image' | 'thumbnail';
  /** Binary code, bits/8 bytes, bit i = bit (i % 8) of byte (i / 8). */
  code?: Uint8Array;
  /** L2-normalised float32 embedding, little-endian bytes. */
  embedding?: Uint8Array;
  /** Its compact re-rank data, serialized by the codec that made it (compact-embedding.ts):
   *  what the search index holds, so a rebuild need not project the embedding again. */
  compact?: Uint8Array;
}

export type IngestionState = 'PENDING' | 'READY' | 'FAILED';

export interface ReferenceImageRecord extends LocationName {
  productId: string;
  id: string;
  uri: string;
  /** Polygons as given by the caller; empty when none were given. */
  boundingPolys: PolyRecord[];
  createTime: Date;
  state: IngestionState;
  /** Why ingestion failed, when state is FAILED. */
  error?: StatusRecord;
  regions: RegionRecord[];
}

export interface Page {
  after?: string;
  limit: number;
}

export type ProductSetPatch = Partial<Pick<ProductSetRecord, 'displayName'>>;
export type ProductPatch = Partial<Pick<ProductRecord, 'displayName' | 'description' | 'labels'>>;
/** A replacement of the computed part of a reference image; `boundingPolys` only when given. */
export type ReferenceImageResult = Pick<ReferenceImageRecord, 'state' | 'error' | 'regions'> &
  Partial<Pick<ReferenceImageRecord, 'boundingPolys'>>;

export interface CatalogStore {
  /** Inserts; resolves false (and writes nothing) when the id is taken in that scope. */
  createProductSet(rec: ProductSetRecord): Promise<boolean>;
  getProductSet(name: ProductSetName): Promise<ProductSetRecord | null>;
  listProductSets(scope: LocationName, page: Page): Promise<ProductSetRecord[]>;
  updateProductSet(name: ProductSetName, patch: ProductSetPatch, now: Date): Promise<ProductSetRecord | null>;
  /** Deletes the set and its memberships; its products stay. */
  deleteProductSet(name: ProductSetName): Promise<boolean>;
  /** Every product set of every scope, ordered by (project, location, id), each by code
   *  point; `after` is the `${project}/${location}/${id}` key of the last one returned, and
   *  results are the sets whose tuple is strictly greater. */
  listProductSetKeys(page: Page): Promise<ProductSetKey[]>;

  createProduct(rec: ProductRecord): Promise<boolean>;
  getProduct(name: ProductName): Promise<ProductRecord | null>;
  listProducts(scope: LocationName, page: Page): Promise<ProductRecord[]>;
  updateProduct(name: ProductName, patch: ProductPatch, now: Date): Promise<ProductRecord | null>;
  /** Deletes the product, its reference images and its memberships. */
  deleteProduct(name: ProductName): Promise<boolean>;

  createReferenceImage(rec: ReferenceImageRecord): Promise<boolean>;
  getReferenceImage(name: ReferenceImageName): Promise<ReferenceImageRecord | null>;
  listReferenceImages(product: ProductName, page: Page): Promise<ReferenceImageRecord[]>;
  /** Replaces the computed part of a reference image (state, error, regions) and, when
   *  given, its polygons (an import adding a region to an image). */
  updateReferenceImageRegions(name: ReferenceImageName, result: ReferenceImageResult): Promise<boolean>;
  deleteReferenceImage(name: ReferenceImageName): Promise<boolean>;

  /** Idempotent. The caller checks that both exist. */
  addProductToSet(set: ProductSetName, productId: string): Promise<void>;
  /** Idempotent; resolves whether a membership was removed. */
  removeProductFromSet(set: ProductSetName, productId: string): Promise<boolean>;
  /** Products of the set, keyset-paginated on product id. */
  listProductsInSet(set: ProductSetName, page: Page): Promise<ProductRecord[]>;
  /** Ids of the sets that hold the product, ascending. */
  listSetsOfProduct(product: ProductName): Promise<string[]>;
  /** listSetsOfProduct for many products of one location in one read (a page of products
   *  in PurgeProducts); every id given is a key, [] for a product in no set. */
  listSetsOfProducts(scope: LocationName, productIds: readonly string[]): Promise<Map<string, string[]>>;
}
