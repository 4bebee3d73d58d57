/**
 * The MongoDB store's collections and their indexes.
 */
import { MongoServerError, type Collection, type Db } from 'mongodb';
import type {
  IndexChangeDoc,
  IndexFeedDoc,
  MembershipDoc,
  OperationDoc,
  OperationResultDoc,
  ProductDoc,
  ProductSetDoc,
  ReferenceImageDoc,
} from './documents';

export interface Collections {
  productSets: Collection<ProductSetDoc>;
  products: Collection<ProductDoc>;
  referenceImages: Collection<ReferenceImageDoc>;
  memberships: Collection<MembershipDoc>;
  operations: Collection<OperationDoc>;
  operationResults: Collection<OperationResultDoc>;
  indexChanges: Collection<IndexChangeDoc>;
  indexFeed: Collection<IndexFeedDoc>;
}

export function collectionsOf(db: Db): Collections {
  return {
    productSets: db.collection<ProductSetDoc>('productSets'),
    products: db.collection<ProductDoc>('products'),
    referenceImages: db.collection<ReferenceImageDoc>('referenceImages'),
    memberships: db.collection<MembershipDoc>('memberships'),
    operations: db.collection<OperationDoc>('operations'),
    operationResults: db.collection<OperationResultDoc>('operationResults'),
    indexChanges: db.collection<IndexChangeDoc>('indexChanges'),
    indexFeed: db.collection<IndexFeedDoc>('indexFeed'),
  };
}

/**
 * createIndex is idempotent for an identical spec, so this runs on every start. The unique
 * key indexes duplicate what `_id` already enforces; they keep a bug in `_id` composition
 * from ever storing two records under one key, and they serve the keyset list scans.
 * Collections are created implicitly by createIndex (no explicit `create`, which jongodb
 * also lacks).
 */
export async function ensureIndexes(c: Collections): Promise<void> {
  // On productSets this index also serves listProductSetKeys: its sort is exactly
  // { project: 1, location: 1, id: 1 }, and each branch of its tuple cursor ($or in
  // paging.ts afterTuple) is a range on a prefix of the index, so the branches merge in
  // index order. (A second index on the same keys would be refused by MongoDB.)
  const scopeId = { project: 1, location: 1, id: 1 } as const;
  await Promise.all([
    c.productSets.createIndex(scopeId, { unique: true, name: 'scope_id' }),
    c.products.createIndex(scopeId, { unique: true, name: 'scope_id' }),
    c.referenceImages.createIndex({ project: 1, location: 1, productId: 1, id: 1 }, { unique: true, name: 'scope_product_id' }),
    c.memberships.createIndex({ project: 1, location: 1, setId: 1, productId: 1 }, { unique: true, name: 'scope_set_product' }),
    c.memberships.createIndex({ project: 1, location: 1, productId: 1, setId: 1 }, { name: 'scope_product_set' }),
    c.operations.createIndex(scopeId, { unique: true, name: 'scope_id' }),
    // claimOperation: pending operations, oldest first.
    c.operations.createIndex({ done: 1, createTime: 1, _id: 1 }, { name: 'claim' }),
    // listOperationResults: one operation's chunks in order.
    c.operationResults.createIndex({ op: 1, chunk: 1 }, { unique: true, name: 'op_chunk' }),
    // trimIndexChanges (listIndexChanges reads _id, the seq).
    c.indexChanges.createIndex({ time: 1 }, { name: 'time' }),
  ]);
}

/** E11000: an insert or upsert hit a unique index. */
export function isDuplicateKey(e: unknown): boolean {
  return e instanceof MongoServerError && e.code === 11000;
}
