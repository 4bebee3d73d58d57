/**
 * The MongoDB store, on the official driver. Every write is acknowledged by a
 * journaled majority and reads use majority read concern, so a resolved call survives a
 * primary failover and later reads see it.
 *
 * No multi-document transactions: each record is one document keyed by a deterministic
 * `_id`, and cascades are ordered so that an interrupted delete never shows children under
 * a parent that still exists: children first, then the parent, then the children again
 * (to catch ones added concurrently; see mongo-memberships.ts).
 */
import { MongoClient, ReadConcern, type Db } from 'mongodb';
import type { LocationName, ProductName, ProductSetName, ReferenceImageName } from '../../core/names';
import type {
  CatalogStore,
  Page,
  ProductPatch,
  ProductRecord,
  ProductSetPatch,
  ProductSetRecord,
  ProductSetKey,
  ReferenceImageRecord,
  ReferenceImageResult,
} from '../catalog-store';
import type { Stores } from '../stores';
import { collectionsOf, ensureIndexes, isDuplicateKey, type Collections } from './collections';
import {
  copyPoly,
  copyStatus,
  imageId,
  productFromDoc,
  productSetFromDoc,
  productSetToDoc,
  productToDoc,
  referenceImageFromDoc,
  referenceImageToDoc,
  regionsToDocs,
  scopedId,
  type ProductSetDoc,
} from './documents';
import { MongoMemberships } from './mongo-memberships';
import { MongoOperations } from './mongo-operations';
import { MongoIndexFeed } from './mongo-index-feed';
import { afterCursor, afterTuple, pageLimit } from './paging';

const AFTER = { returnDocument: 'after' } as const;

const setId = (n: ProductSetName) => scopedId(n.project, n.location, n.productSet);
const productId = (n: ProductName) => scopedId(n.project, n.location, n.product);
const refImageId = (n: ReferenceImageName) => imageId(n.project, n.location, n.product, n.referenceImage);

/** Runs an insert; false when the key is already taken (E11000). */
async function insertIfAbsent(insert: () => Promise<unknown>): Promise<boolean> {
  try {
    await insert();
    return true;
  } catch (e) {
    if (isDuplicateKey(e)) return false;
    throw e;
  }
}

/** The MongoDB client and the three store ports over its database. */
export class MongoStore implements Stores {
  readonly kind = 'mongodb';
  readonly catalog: MongoCatalogStore;
  readonly operations: MongoOperations;
  readonly indexFeed: MongoIndexFeed;
  private readonly db: Db;
  private readonly c: Collections;

  /** Connects, ensures the indexes and returns a ready store. `dbName` defaults to the
   *  URI's database (the driver's rule). */
  static async connect(uri: string, dbName?: string): Promise<MongoStore> {
    const client = new MongoClient(uri);
    await client.connect();
    try {
      const store = new MongoStore(client, dbName);
      await ensureIndexes(store.c);
      return store;
    } catch (e) {
      await client.close();
      throw e;
    }
  }

  private constructor(
    private readonly client: MongoClient,
    dbName?: string,
  ) {
    this.db = client.db(dbName, {
      writeConcern: { w: 'majority', journal: true },
      readConcern: new ReadConcern('majority'),
    });
    this.c = collectionsOf(this.db);
    this.catalog = new MongoCatalogStore(this.c);
    this.operations = new MongoOperations(this.c);
    this.indexFeed = new MongoIndexFeed(this.c);
  }

  async ping(): Promise<void> {
    await this.db.command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** Product sets, products, reference images and memberships in MongoDB. */
export class MongoCatalogStore implements CatalogStore {
  private readonly memberships: MongoMemberships;

  constructor(private readonly c: Collections) {
    this.memberships = new MongoMemberships(c);
  }

  // ---- product sets -------------------------------------------------------------------

  createProductSet(rec: ProductSetRecord): Promise<boolean> {
    return insertIfAbsent(() => this.c.productSets.insertOne(productSetToDoc(rec)));
  }

  async getProductSet(name: ProductSetName): Promise<ProductSetRecord | null> {
    const d = await this.c.productSets.findOne({ _id: setId(name) });
    return d && productSetFromDoc(d);
  }

  async listProductSets(scope: LocationName, page: Page): Promise<ProductSetRecord[]> {
    const limit = pageLimit(page);
    if (limit === 0) return [];
    const filter = { project: scope.project, location: scope.location, id: afterCursor(page) };
    const docs = await this.c.productSets.find(filter).sort({ id: 1 }).limit(limit).toArray();
    return docs.map(productSetFromDoc);
  }

  async updateProductSet(name: ProductSetName, patch: ProductSetPatch, now: Date): Promise<ProductSetRecord | null> {
    const set = { updateTime: now, ...(patch.displayName !== undefined && { displayName: patch.displayName }) };
    const d = await this.c.productSets.findOneAndUpdate({ _id: setId(name) }, { $set: set }, AFTER);
    return d && productSetFromDoc(d);
  }

  async deleteProductSet(name: ProductSetName): Promise<boolean> {
    const members = { project: name.project, location: name.location, setId: name.productSet };
    await this.c.memberships.deleteMany(members);
    const deleted = (await this.c.productSets.deleteOne({ _id: setId(name) })).deletedCount === 1;
    if (deleted) await this.c.memberships.deleteMany(members);
    return deleted;
  }

  /** One updateMany by `_id` (ids of the scope only; missing ones match nothing). Leaves
   *  displayName and updateTime alone. */
  /** Ordered by the tuple (project, location, id), strictly after the tuple of `after`
   *  (see afterTuple in paging.ts and SqliteStore.listProductSetKeys for the order). */
  async listProductSetKeys(page: Page): Promise<ProductSetKey[]> {
    const limit = pageLimit(page);
    if (limit === 0) return [];
    // The projection only trims the reply (jongodb ignores it).
    const projection = { project: 1, location: 1, id: 1 };
    const docs = await this.c.productSets
      .find(afterTuple<ProductSetDoc>(page), { projection })
      .sort({ project: 1, location: 1, id: 1 })
      .limit(limit)
      .toArray();
    return docs.map((d) => ({ project: d.project, location: d.location, id: d.id }));
  }

  // ---- products -----------------------------------------------------------------------

  createProduct(rec: ProductRecord): Promise<boolean> {
    return insertIfAbsent(() => this.c.products.insertOne(productToDoc(rec)));
  }

  async getProduct(name: ProductName): Promise<ProductRecord | null> {
    const d = await this.c.products.findOne({ _id: productId(name) });
    return d && productFromDoc(d);
  }

  async listProducts(scope: LocationName, page: Page): Promise<ProductRecord[]> {
    const limit = pageLimit(page);
    if (limit === 0) return [];
    const filter = { project: scope.project, location: scope.location, id: afterCursor(page) };
    const docs = await this.c.products.find(filter).sort({ id: 1 }).limit(limit).toArray();
    return docs.map(productFromDoc);
  }

  async updateProduct(name: ProductName, patch: ProductPatch, now: Date): Promise<ProductRecord | null> {
    const set = {
      updateTime: now,
      ...(patch.displayName !== undefined && { displayName: patch.displayName }),
      ...(patch.description !== undefined && { description: patch.description }),
      ...(patch.labels !== undefined && { labels: patch.labels.map(({ key, value }) => ({ key, value })) }),
    };
    const d = await this.c.products.findOneAndUpdate({ _id: productId(name) }, { $set: set }, AFTER);
    return d && productFromDoc(d);
  }

  async deleteProduct(name: ProductName): Promise<boolean> {
    const children = { project: name.project, location: name.location, productId: name.product };
    const sweep = () => Promise.all([this.c.referenceImages.deleteMany(children), this.c.memberships.deleteMany(children)]);
    await sweep();
    const deleted = (await this.c.products.deleteOne({ _id: productId(name) })).deletedCount === 1;
    if (deleted) await sweep();
    return deleted;
  }

  // ---- reference images ---------------------------------------------------------------

  /** Resolves false, leaving nothing stored, when the id is taken or the product is gone
   *  once the image is written (a concurrent product delete). */
  async createReferenceImage(rec: ReferenceImageRecord): Promise<boolean> {
    const doc = referenceImageToDoc(rec);
    if (!(await insertIfAbsent(() => this.c.referenceImages.insertOne(doc)))) return false;
    const parent = scopedId(rec.project, rec.location, rec.productId);
    if ((await this.c.products.countDocuments({ _id: parent }, { limit: 1 })) === 1) return true;
    await this.c.referenceImages.deleteOne({ _id: doc._id });
    return false;
  }

  async getReferenceImage(name: ReferenceImageName): Promise<ReferenceImageRecord | null> {
    const d = await this.c.referenceImages.findOne({ _id: refImageId(name) });
    return d && referenceImageFromDoc(d);
  }

  async listReferenceImages(product: ProductName, page: Page): Promise<ReferenceImageRecord[]> {
    const limit = pageLimit(page);
    if (limit === 0) return [];
    const { project, location } = product;
    const filter = { project, location, productId: product.product, id: afterCursor(page) };
    const docs = await this.c.referenceImages.find(filter).sort({ id: 1 }).limit(limit).toArray();
    return docs.map(referenceImageFromDoc);
  }

  async updateReferenceImageRegions(name: ReferenceImageName, result: ReferenceImageResult): Promise<boolean> {
    const r = await this.c.referenceImages.updateOne(
      { _id: refImageId(name) },
      {
        $set: {
          state: result.state,
          error: result.error ? copyStatus(result.error) : null,
          regions: regionsToDocs(result.regions),
          ...(result.boundingPolys ? { boundingPolys: result.boundingPolys.map(copyPoly) } : {}),
        },
      },
    );
    return r.matchedCount === 1;
  }

  async deleteReferenceImage(name: ReferenceImageName): Promise<boolean> {
    return (await this.c.referenceImages.deleteOne({ _id: refImageId(name) })).deletedCount === 1;
  }

  // ---- memberships (see mongo-memberships.ts) -----------------------------------------

  addProductToSet = (set: ProductSetName, productId: string) => this.memberships.add(set, productId);
  removeProductFromSet = (set: ProductSetName, productId: string) => this.memberships.remove(set, productId);
  listProductsInSet = (set: ProductSetName, page: Page) => this.memberships.listProducts(set, page);
  listSetsOfProduct = (product: ProductName) => this.memberships.listSets(product);
  listSetsOfProducts = (scope: LocationName, productIds: readonly string[]) => this.memberships.listSetsOfMany(scope, productIds);
}
