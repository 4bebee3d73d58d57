/**
 * The embedded store: one SQLite file (WAL, synchronous=FULL), driven by
 * better-sqlite3. Calls are synchronous underneath, so a transaction is never interleaved
 * with another call of this process; IMMEDIATE transactions (Sql.tx) also serialise
 * against other processes that open the same file.
 *
 * Integrity: children are only inserted while their parents exist (guarded INSERTs), and
 * cascades run in the same transaction as the parent's delete, so no orphan row is ever
 * stored and the list queries need no orphan filtering.
 */
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
import {
  productFromRow,
  productSetFromRow,
  referenceImageFromRow,
  regionsToJson,
  toJson,
  type ProductRow,
  type ProductSetRow,
  type ReferenceImageRow,
} from './codec';
import { ensureParentDir, openDatabase } from './database';
import { pageParams, Sql, setKeyCursor } from './sql';
import { SqliteIndexFeed } from './sqlite-index-feed';
import { SqliteOperations } from './sqlite-operations';

const setKey = (n: ProductSetName) => ({ project: n.project, location: n.location, id: n.productSet });
const productKey = (n: ProductName) => ({ project: n.project, location: n.location, id: n.product });
const imageKey = (n: ReferenceImageName) => ({
  project: n.project,
  location: n.location,
  productId: n.product,
  id: n.referenceImage,
});

const IN_SCOPE = 'project = @project AND location = @location';
const PRODUCT_EXISTS = `EXISTS (SELECT 1 FROM products WHERE ${IN_SCOPE} AND id = @productId)`;
const SET_EXISTS = `EXISTS (SELECT 1 FROM product_sets WHERE ${IN_SCOPE} AND id = @setId)`;

/** The SQLite file's connection and the three store ports over it. */
export class SqliteStore implements Stores {
  readonly kind = 'sqlite';
  readonly catalog: SqliteCatalogStore;
  readonly operations: SqliteOperations;
  readonly indexFeed: SqliteIndexFeed;

  /** Opens (creating the directory and file when missing) and migrates the store.
   *  `file` may be ':memory:' (tests). */
  static async open(file: string, opts: { bulk?: boolean } = {}): Promise<SqliteStore> {
    await ensureParentDir(file);
    return new SqliteStore(new Sql(openDatabase(file, opts)));
  }

  private constructor(private readonly db: Sql) {
    this.catalog = new SqliteCatalogStore(db);
    this.operations = new SqliteOperations(db);
    this.indexFeed = new SqliteIndexFeed(db);
  }

  async ping(): Promise<void> {
    this.db.conn.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.conn.open) this.db.conn.close();
  }
}

/** Product sets, products, reference images and memberships in SQLite. */
export class SqliteCatalogStore implements CatalogStore {
  constructor(private readonly db: Sql) {}

  // ---- product sets -------------------------------------------------------------------

  async createProductSet(rec: ProductSetRecord): Promise<boolean> {
    const sql = `INSERT INTO product_sets (project, location, id, display_name, create_time, update_time)
                 VALUES (@project, @location, @id, @displayName, @createTime, @updateTime)
                 ON CONFLICT DO NOTHING`;
    const r = this.db.stmt(sql).run({ ...rec, createTime: +rec.createTime, updateTime: +rec.updateTime });
    return r.changes === 1;
  }

  async getProductSet(name: ProductSetName): Promise<ProductSetRecord | null> {
    const row = this.getSetRow(setKey(name));
    return row ? productSetFromRow(row) : null;
  }

  async listProductSets(scope: LocationName, page: Page): Promise<ProductSetRecord[]> {
    const sql = `SELECT * FROM product_sets WHERE ${IN_SCOPE} AND id > @after ORDER BY id LIMIT @limit`;
    const rows = this.db.stmt<ProductSetRow>(sql).all({ ...scope, ...pageParams(page) });
    return rows.map(productSetFromRow);
  }

  async updateProductSet(name: ProductSetName, patch: ProductSetPatch, now: Date): Promise<ProductSetRecord | null> {
    return this.db.tx(() => {
      const row = this.getSetRow(setKey(name));
      if (!row) return null;
      const next: ProductSetRow = { ...row, display_name: patch.displayName ?? row.display_name, update_time: +now };
      const sql = `UPDATE product_sets SET display_name = @display_name, update_time = @update_time
                   WHERE ${IN_SCOPE} AND id = @id`;
      this.db.stmt(sql).run(next);
      return productSetFromRow(next);
    });
  }

  async deleteProductSet(name: ProductSetName): Promise<boolean> {
    const key = setKey(name);
    return this.db.tx(() => {
      this.db.stmt(`DELETE FROM memberships WHERE ${IN_SCOPE} AND set_id = @id`).run(key);
      return this.db.stmt(`DELETE FROM product_sets WHERE ${IN_SCOPE} AND id = @id`).run(key).changes === 1;
    });
  }

  /**
   * Ordered by the tuple (project, location, id), each compared by code point (BINARY
   * collation on UTF-8), strictly after the tuple `after` splits into (see stampCursor).
   * This is the code-point order of `${project}/${location}/${id}` with '/' taken as
   * sorting below every other character, not the plain order of the joined string: 'p1'
   * comes before 'p1-x' here, whereas "p1-x/…" < "p1/…" since '-' < '/'. The row-value
   * comparison is a range scan of the primary key.
   */
  async listProductSetKeys(page: Page): Promise<ProductSetKey[]> {
    const { limit } = pageParams(page);
    const sql = `SELECT project, location, id FROM product_sets
                 WHERE (project, location, id) > (@afterProject, @afterLocation, @afterId)
                 ORDER BY project, location, id LIMIT @limit`;
    return this.db.stmt<ProductSetKey>(sql).all({ ...setKeyCursor(page), limit });
  }

  private getSetRow(key: ReturnType<typeof setKey>): ProductSetRow | undefined {
    const sql = `SELECT * FROM product_sets WHERE ${IN_SCOPE} AND id = @id`;
    return this.db.stmt<ProductSetRow>(sql).get(key);
  }

  // ---- products -----------------------------------------------------------------------

  async createProduct(rec: ProductRecord): Promise<boolean> {
    const sql = `INSERT INTO products (project, location, id, display_name, description, product_category, labels,
                   create_time, update_time)
                 VALUES (@project, @location, @id, @displayName, @description, @productCategory, @labels,
                   @createTime, @updateTime)
                 ON CONFLICT DO NOTHING`;
    const params = {
      ...rec,
      labels: JSON.stringify(rec.labels),
      createTime: +rec.createTime,
      updateTime: +rec.updateTime,
    };
    return this.db.stmt(sql).run(params).changes === 1;
  }

  async getProduct(name: ProductName): Promise<ProductRecord | null> {
    const row = this.getProductRow(productKey(name));
    return row ? productFromRow(row) : null;
  }

  async listProducts(scope: LocationName, page: Page): Promise<ProductRecord[]> {
    const sql = `SELECT * FROM products WHERE ${IN_SCOPE} AND id > @after ORDER BY id LIMIT @limit`;
    const rows = this.db.stmt<ProductRow>(sql).all({ ...scope, ...pageParams(page) });
    return rows.map(productFromRow);
  }

  async updateProduct(name: ProductName, patch: ProductPatch, now: Date): Promise<ProductRecord | null> {
    return this.db.tx(() => {
      const row = this.getProductRow(productKey(name));
      if (!row) return null;
      const next: ProductRow = {
        ...row,
        display_name: patch.displayName ?? row.display_name,
        description: patch.description ?? row.description,
        labels: patch.labels ? JSON.stringify(patch.labels) : row.labels,
        update_time: +now,
      };
      const sql = `UPDATE products SET display_name = @display_name, description = @description,
                     labels = @labels, update_time = @update_time
                   WHERE ${IN_SCOPE} AND id = @id`;
      this.db.stmt(sql).run(next);
      return productFromRow(next);
    });
  }

  async deleteProduct(name: ProductName): Promise<boolean> {
    const key = productKey(name);
    return this.db.tx(() => {
      this.db.stmt(`DELETE FROM reference_images WHERE ${IN_SCOPE} AND product_id = @id`).run(key);
      this.db.stmt(`DELETE FROM memberships WHERE ${IN_SCOPE} AND product_id = @id`).run(key);
      return this.db.stmt(`DELETE FROM products WHERE ${IN_SCOPE} AND id = @id`).run(key).changes === 1;
    });
  }

  private getProductRow(key: ReturnType<typeof productKey>): ProductRow | undefined {
    return this.db.stmt<ProductRow>(`SELECT * FROM products WHERE ${IN_SCOPE} AND id = @id`).get(key);
  }

  // ---- reference images ---------------------------------------------------------------

  /** Resolves false, writing nothing, when the id is taken or the product does not exist. */
  async createReferenceImage(rec: ReferenceImageRecord): Promise<boolean> {
    const sql = `INSERT INTO reference_images (project, location, product_id, id, uri, bounding_polys, create_time,
                   state, error, regions)
                 SELECT @project, @location, @productId, @id, @uri, @boundingPolys, @createTime, @state,
                        @error, @regions
                 WHERE ${PRODUCT_EXISTS}
                 ON CONFLICT DO NOTHING`;
    const params = {
      ...rec,
      boundingPolys: JSON.stringify(rec.boundingPolys),
      createTime: +rec.createTime,
      error: toJson(rec.error),
      regions: regionsToJson(rec.regions),
    };
    return this.db.stmt(sql).run(params).changes === 1;
  }

  async getReferenceImage(name: ReferenceImageName): Promise<ReferenceImageRecord | null> {
    const sql = `SELECT * FROM reference_images WHERE ${IN_SCOPE} AND product_id = @productId AND id = @id`;
    const row = this.db.stmt<ReferenceImageRow>(sql).get(imageKey(name));
    return row ? referenceImageFromRow(row) : null;
  }

  async listReferenceImages(product: ProductName, page: Page): Promise<ReferenceImageRecord[]> {
    const sql = `SELECT * FROM reference_images WHERE ${IN_SCOPE} AND product_id = @id AND id > @after
                 ORDER BY id LIMIT @limit`;
    const rows = this.db.stmt<ReferenceImageRow>(sql).all({ ...productKey(product), ...pageParams(page) });
    return rows.map(referenceImageFromRow);
  }

  async updateReferenceImageRegions(name: ReferenceImageName, result: ReferenceImageResult): Promise<boolean> {
    const sql = `UPDATE reference_images SET state = @state, error = @error, regions = @regions,
                   bounding_polys = COALESCE(@boundingPolys, bounding_polys)
                 WHERE ${IN_SCOPE} AND product_id = @productId AND id = @id`;
    const params = {
      ...imageKey(name),
      state: result.state,
      error: toJson(result.error),
      regions: regionsToJson(result.regions),
      boundingPolys: toJson(result.boundingPolys),
    };
    return this.db.stmt(sql).run(params).changes === 1;
  }

  async deleteReferenceImage(name: ReferenceImageName): Promise<boolean> {
    const sql = `DELETE FROM reference_images WHERE ${IN_SCOPE} AND product_id = @productId AND id = @id`;
    return this.db.stmt(sql).run(imageKey(name)).changes === 1;
  }

  // ---- memberships --------------------------------------------------------------------

  /** A no-op when the set or the product does not exist (never stores an orphan). */
  async addProductToSet(set: ProductSetName, productId: string): Promise<void> {
    const sql = `INSERT INTO memberships (project, location, set_id, product_id)
                 SELECT @project, @location, @setId, @productId
                 WHERE ${SET_EXISTS} AND ${PRODUCT_EXISTS}
                 ON CONFLICT DO NOTHING`;
    this.db.stmt(sql).run({ project: set.project, location: set.location, setId: set.productSet, productId });
  }

  async removeProductFromSet(set: ProductSetName, productId: string): Promise<boolean> {
    const sql = `DELETE FROM memberships WHERE ${IN_SCOPE} AND set_id = @setId AND product_id = @productId`;
    const params = { project: set.project, location: set.location, setId: set.productSet, productId };
    return this.db.stmt(sql).run(params).changes === 1;
  }

  async listProductsInSet(set: ProductSetName, page: Page): Promise<ProductRecord[]> {
    const sql = `SELECT p.* FROM memberships m
                 JOIN products p ON p.project = m.project AND p.location = m.location AND p.id = m.product_id
                 WHERE m.project = @project AND m.location = @location AND m.set_id = @id AND m.product_id > @after
                 ORDER BY m.product_id LIMIT @limit`;
    const rows = this.db.stmt<ProductRow>(sql).all({ ...setKey(set), ...pageParams(page) });
    return rows.map(productFromRow);
  }

  async listSetsOfProduct(product: ProductName): Promise<string[]> {
    const sql = `SELECT set_id FROM memberships WHERE ${IN_SCOPE} AND product_id = @id ORDER BY set_id`;
    return this.db.stmt<string>(sql).pluck().all(productKey(product));
  }

  async listSetsOfProducts(scope: LocationName, productIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map(productIds.map((id) => [id, [] as string[]]));
    if (productIds.length === 0) return out;
    const sql = `SELECT product_id, set_id FROM memberships
                 WHERE ${IN_SCOPE} AND product_id IN (SELECT value FROM json_each(@ids))
                 ORDER BY product_id, set_id`;
    const rows = this.db
      .stmt<{ product_id: string; set_id: string }>(sql)
      .all({ project: scope.project, location: scope.location, ids: JSON.stringify(productIds) });
    for (const r of rows) out.get(r.product_id)?.push(r.set_id);
    return out;
  }
}
