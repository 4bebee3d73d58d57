/**
 * Product-set memberships in MongoDB: one document per (set, product) pair in their own
 * collection, with a unique index. This keeps add/remove idempotent single-document
 * writes, makes both directions keyset-scannable, and avoids array operators ($push/$pull
 * on an array in the set), which jongodb does not implement.
 *
 * Without transactions a membership can outlive its set or product for a moment (an add
 * racing a delete). Adders re-check their parents after writing and deleters sweep
 * memberships both before and after deleting the parent (see mongo-store.ts), so such an
 * orphan is removed by whichever side finishes last; reads also skip any that a crash
 * left behind.
 */
import type { LocationName, ProductName, ProductSetName } from '../../core/names';
import type { Page, ProductRecord } from '../catalog-store';
import { isDuplicateKey, type Collections } from './collections';
import { membershipId, productFromDoc, scopedId, type MembershipDoc } from './documents';
import { pageLimit } from './paging';

export class MongoMemberships {
  constructor(private readonly c: Collections) {}

  /** Idempotent. Leaves nothing behind when the set or product is gone by the time the
   *  membership is written. */
  async add(set: ProductSetName, productId: string): Promise<void> {
    const { project, location, productSet: setId } = set;
    const _id = membershipId(project, location, setId, productId);
    try {
      await this.c.memberships.updateOne({ _id }, { $setOnInsert: { project, location, setId, productId } }, { upsert: true });
    } catch (e) {
      // Two concurrent upserts of one _id: the loser may get E11000; the pair exists.
      if (!isDuplicateKey(e)) throw e;
    }
    const [s, p] = await Promise.all([
      this.c.productSets.countDocuments({ _id: scopedId(project, location, setId) }, { limit: 1 }),
      this.c.products.countDocuments({ _id: scopedId(project, location, productId) }, { limit: 1 }),
    ]);
    if (s === 0 || p === 0) await this.c.memberships.deleteOne({ _id });
  }

  async remove(set: ProductSetName, productId: string): Promise<boolean> {
    const _id = membershipId(set.project, set.location, set.productSet, productId);
    return (await this.c.memberships.deleteOne({ _id })).deletedCount === 1;
  }

  /** Pages through memberships and joins their products; memberships whose product is
   *  gone are skipped, and the scan continues so a page is only short at the end. */
  async listProducts(set: ProductSetName, page: Page): Promise<ProductRecord[]> {
    const { project, location, productSet: setId } = set;
    const limit = pageLimit(page);
    const out: ProductRecord[] = [];
    let after = page.after ?? '';
    while (out.length < limit) {
      const want = limit - out.length;
      const ms = await this.c.memberships
        .find({ project, location, setId, productId: { $gt: after } })
        .sort({ productId: 1 })
        .limit(want)
        .toArray();
      if (ms.length === 0) break;
      out.push(...(await this.productsOf(ms)));
      if (ms.length < want) break;
      after = ms[ms.length - 1].productId;
    }
    return out;
  }

  /** Set ids holding the product, ascending; memberships of deleted sets are skipped. */
  async listSets(product: ProductName): Promise<string[]> {
    return (await this.listSetsOfMany(product, [product.product])).get(product.product)!;
  }

  /** listSets for many products of one location: two reads whatever their number. */
  async listSetsOfMany(scope: LocationName, productIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map(productIds.map((id) => [id, [] as string[]]));
    if (productIds.length === 0) return out;
    const { project, location } = scope;
    const ms = await this.c.memberships.find({ project, location, productId: { $in: [...productIds] } }).toArray();
    if (ms.length === 0) return out;
    // The projection only trims the reply: jongodb ignores projections and returns whole
    // documents, which this code reads the same way.
    const setIds = [...new Set(ms.map((m) => m.setId))];
    const sets = await this.c.productSets
      .find({ _id: { $in: setIds.map((id) => scopedId(project, location, id)) } }, { projection: { id: 1 } })
      .toArray();
    const live = new Set(sets.map((s) => s.id));
    for (const m of ms) if (live.has(m.setId)) out.get(m.productId)?.push(m.setId);
    // Ascending by code unit, the order MongoDB and SQLite give these ASCII ids.
    for (const ids of out.values()) ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return out;
  }

  /** The products of these memberships, in membership order. */
  private async productsOf(ms: MembershipDoc[]): Promise<ProductRecord[]> {
    const ids = ms.map((m) => scopedId(m.project, m.location, m.productId));
    const docs = await this.c.products.find({ _id: { $in: ids } }).toArray();
    const byId = new Map(docs.map((d) => [d._id, d]));
    return ids.flatMap((id) => {
      const d = byId.get(id);
      return d ? [productFromDoc(d)] : [];
    });
  }
}
