/**
 * The storage port. The catalog, search and job code depend only on this interface;
 * `src/store/sqlite` (embedded, the default) and `src/store/mongo` implement it, and
 * `test/store/contract.ts` holds the one conformance suite both must pass.
 *
 * Contract, for every implementation:
 * - A method resolves only once its write is durable (fsync'd / majority-acknowledged).
 * - Lists are keyset-paginated: records whose id is strictly greater than `after`, in
 *   ascending code-point order of id, at most `limit` of them. Ids never contain '/'.
 * - Scopes never leak: a record is only ever returned for its own project and location.
 * - Dates are JS Dates with millisecond precision.
 */
import type { LocationName, OperationName, ProductName, ProductSetName, ReferenceImageName } from '../core/names';

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

/**
 * What an index change names: the state of one product in one set (its membership, its
 * labels, its reference images, its existence), or, without a product, the set itself
 * (created or deleted). The change says only where to look: a reader applies it by
 * reading that state again, so applying a change twice, late or out of order is harmless.
 */
export interface IndexChangeTarget {
  setId: string;
  productId?: string;
}

/** An entry of the index change feed (see CatalogStore.appendIndexChanges). */
export interface IndexChange extends LocationName, IndexChangeTarget {
  /** Position in the feed: assigned in increasing order; a writer that crashes between
   *  taking a number and storing its change may leave a gap. */
  seq: number;
  time: Date;
}

/** The feed's identity (a store recreated from scratch has another) and its last position. */
export interface IndexFeedHead {
  feedId: string;
  seq: number;
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

export interface OperationRecord {
  project: string;
  /** Null for operations addressed as projects/P/operations/ID. */
  location: string | null;
  id: string;
  /** Which job handler runs it, e.g. 'import-product-sets'. */
  kind: string;
  /** The job's input, as the handler stored it (JSON-safe). */
  request: unknown;
  done: boolean;
  /** BatchOperationMetadata-like progress, JSON-safe, owned by the handler. */
  metadata: unknown;
  /** Set when done: either a response (JSON-safe) or an error. */
  response?: unknown;
  error?: StatusRecord;
  /** Handler-owned resume point, written together with progress. */
  checkpoint?: unknown;
  cancelRequested: boolean;
  /** Lease of the worker running it; a lease that expired may be claimed again. */
  leaseOwner?: string;
  leaseUntil?: Date;
  createTime: Date;
  updateTime: Date;
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

/**
 * One chunk of an operation's per-item results (an import's per-line statuses). Results
 * live apart from the operation record so that a 100k-line import never needs one huge
 * document; they are assembled into the response when the operation is read.
 */
export interface OperationResultChunk {
  chunk: number;
  /** JSON-safe items, owned by the job handler. */
  items: unknown[];
}

export type OperationPatch = Partial<
  Pick<OperationRecord, 'done' | 'metadata' | 'response' | 'error' | 'checkpoint' | 'cancelRequested'>
>;

export interface CatalogStore {
  readonly kind: string;

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

  /**
   * The index change feed, which every process's search index follows. A writer appends
   * the changes a write makes after the write is stored; the call resolves once they are
   * durable, with their seqs.
   */
  appendIndexChanges(scope: LocationName, changes: readonly IndexChangeTarget[], now: Date): Promise<number[]>;
  /** Changes with seq > `after`, ascending, at most `limit`. */
  listIndexChanges(after: number, limit: number): Promise<IndexChange[]>;
  indexFeedHead(): Promise<IndexFeedHead>;
  /** Deletes the changes stored before `before`; resolves how many went. */
  trimIndexChanges(before: Date): Promise<number>;

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

  createOperation(rec: OperationRecord): Promise<void>;
  getOperation(name: OperationName): Promise<OperationRecord | null>;
  listOperations(scope: { project: string; location: string | null }, page: Page): Promise<OperationRecord[]>;
  updateOperation(name: OperationName, patch: OperationPatch, now: Date): Promise<OperationRecord | null>;
  /** Deletes the operation and its result chunks. */
  deleteOperation(name: OperationName): Promise<boolean>;
  /** Writes chunk `chunk` of the operation's results, replacing a chunk of that number
   *  (a job resumed after a crash writes the same chunk again). */
  putOperationResults(name: OperationName, chunk: number, items: readonly unknown[]): Promise<void>;
  /** Chunks numbered strictly above `afterChunk` (-1: from the start), ascending, at most `limit`. */
  listOperationResults(name: OperationName, afterChunk: number, limit: number): Promise<OperationResultChunk[]>;
  /**
   * Atomically takes the lease of one operation that is not done and whose lease is free
   * or expired at `now`, oldest first. Two workers never hold the same lease.
   */
  claimOperation(owner: string, now: Date, leaseMs: number): Promise<OperationRecord | null>;
  /** Extends a lease still held by `owner`; false when it was lost. */
  renewLease(name: OperationName, owner: string, now: Date, leaseMs: number): Promise<boolean>;
  releaseLease(name: OperationName, owner: string): Promise<void>;

  /** Resolves when the store answers; throws otherwise. Used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
