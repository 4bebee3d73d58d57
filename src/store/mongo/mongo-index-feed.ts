/**
 * The index change feed in MongoDB: `indexFeed` holds a counter that an append advances
 * by the number of its changes in one atomic $inc, then the changes are inserted under
 * those seqs. Two writers never share a seq; a reader may see seq 12 before 11 is
 * inserted, or never see 11 when its writer died in between, and copes (catalog-index.ts).
 */
import { randomBytes } from 'node:crypto';
import type { LocationName } from '../../catalog/names';
import type { IndexChange, IndexChangeTarget, IndexFeedHead } from '../catalog-store';
import { isDuplicateKey, type Collections } from './collections';

export class MongoIndexFeed {
  constructor(private readonly c: Collections) {}

  async append(scope: LocationName, changes: readonly IndexChangeTarget[], now: Date): Promise<number[]> {
    if (changes.length === 0) return [];
    await this.head();
    const feed = await this.c.indexFeed.findOneAndUpdate({ _id: 'feed' }, { $inc: { seq: changes.length } }, { returnDocument: 'after' });
    const last = feed!.seq;
    const docs = changes.map((c, i) => ({
      _id: last - changes.length + 1 + i,
      project: scope.project,
      location: scope.location,
      setId: c.setId,
      ...(c.productId !== undefined ? { productId: c.productId } : {}),
      time: now,
    }));
    await this.c.indexChanges.insertMany(docs, { ordered: true });
    return docs.map((d) => d._id);
  }

  async list(after: number, limit: number): Promise<IndexChange[]> {
    if (!(limit > 0)) return [];
    const docs = await this.c.indexChanges.find({ _id: { $gt: after } }).sort({ _id: 1 }).limit(Math.floor(limit)).toArray();
    return docs.map((d) => ({
      seq: d._id,
      project: d.project,
      location: d.location,
      setId: d.setId,
      ...(d.productId !== undefined ? { productId: d.productId } : {}),
      time: d.time,
    }));
  }

  /** Creates the feed document on first use (two processes racing: one insert wins). */
  async head(): Promise<IndexFeedHead> {
    const doc = await this.c.indexFeed.findOne({ _id: 'feed' });
    if (doc) return { feedId: doc.feedId, seq: doc.seq };
    try {
      await this.c.indexFeed.insertOne({ _id: 'feed', feedId: randomBytes(12).toString('hex'), seq: 0 });
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
    const created = await this.c.indexFeed.findOne({ _id: 'feed' });
    return { feedId: created!.feedId, seq: created!.seq };
  }

  async trim(before: Date): Promise<number> {
    return (await this.c.indexChanges.deleteMany({ time: { $lt: before } })).deletedCount;
  }
}
