/**
 * The index change feed in MongoDB: `indexFeed` holds a counter that an append advances
 * by the number of its changes in one atomic $inc, then the changes are inserted under
 * those seqs. Two writers never share a seq; a reader may see seq 12 before 11 is
 * inserted, or never see 11 when its writer died in between, and copes (catalog-index.ts).
 */
import { randomBytes } from 'node:crypto';
import type { LocationName } from '../../core/names';
import type { IndexChange, IndexChangeTarget, IndexFeedHead, IndexFeedStore } from '../index-feed-store';
import { isDuplicateKey, type Collections } from './collections';

const MAX_ATTEMPTS = 8;

export class MongoIndexFeed implements IndexFeedStore {
  /** The feed document exists (made once per process, not read again on every append). */
  private created?: Promise<unknown>;

  constructor(private readonly c: Collections) {}

  async appendIndexChanges(scope: LocationName, changes: readonly IndexChangeTarget[], now: Date): Promise<number[]> {
    if (changes.length === 0) return [];
    this.created ??= this.indexFeedHead().catch((e: unknown) => {
      this.created = undefined;
      throw e;
    });
    await this.created;
    const seqs: number[] = [];
    let rest = changes;
    // A seq already taken (a counter that is not atomic under concurrent connections, as
    // jongodb's) fails its insert on _id: the changes from there take fresh seqs.
    for (let attempt = 0; rest.length > 0; attempt++) {
      const feed = await this.c.indexFeed.findOneAndUpdate({ _id: 'feed' }, { $inc: { seq: rest.length } }, { returnDocument: 'after' });
      const first = feed!.seq - rest.length + 1;
      const docs = rest.map((c, i) => ({
        _id: first + i,
        project: scope.project,
        location: scope.location,
        setId: c.setId,
        ...(c.productId !== undefined ? { productId: c.productId } : {}),
        time: now,
      }));
      try {
        await this.c.indexChanges.insertMany(docs, { ordered: true });
        seqs.push(...docs.map((d) => d._id));
        rest = [];
      } catch (e) {
        if (!isDuplicateKey(e) || attempt >= MAX_ATTEMPTS) throw e;
        const inserted = (e as { insertedCount?: number }).insertedCount ?? 0;
        seqs.push(...docs.slice(0, inserted).map((d) => d._id));
        rest = rest.slice(inserted);
      }
    }
    return seqs;
  }

  async listIndexChanges(after: number, limit: number): Promise<IndexChange[]> {
    if (!(limit > 0)) return [];
    const docs = await this.c.indexChanges
      .find({ _id: { $gt: after } })
      .sort({ _id: 1 })
      .limit(Math.floor(limit))
      .toArray();
    return docs.map((d) => ({
      seq: d._id,
      project: d.project,
      location: d.location,
      setId: d.setId,
      ...(d.productId !== undefined ? { productId: d.productId } : {}),
      time: d.time,
    }));
  }

  /**
   * A change stream of the inserts into the changes collection (see
   * IndexFeedStore.watchIndexChanges). The stream's aggregate runs on its first read, so a
   * server without change streams refuses it there (a standalone mongod: code 40573) and
   * this resolves undefined. The driver resumes the stream itself after resumable errors
   * (a primary stepping down); any other error ends it, and the reader polls on.
   */
  async watchIndexChanges(onAppend: () => void, onError: (err: unknown) => void): Promise<(() => Promise<void>) | undefined> {
    const stream = this.c.indexChanges.watch([{ $match: { operationType: 'insert' } }]);
    try {
      if (await stream.tryNext()) onAppend();
    } catch {
      await stream.close().catch(() => undefined);
      return undefined;
    }
    let stopped = false;
    const follow = async () => {
      try {
        // next() waits for the next insert; close() ends it.
        while (!stopped && (await stream.next())) onAppend();
      } catch (err) {
        if (!stopped) onError(err);
      }
    };
    void follow();
    return async () => {
      stopped = true;
      await stream.close();
    };
  }

  /** Creates the feed document on first use (two processes racing: one insert wins). */
  async indexFeedHead(): Promise<IndexFeedHead> {
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

  async trimIndexChanges(before: Date): Promise<number> {
    return (await this.c.indexChanges.deleteMany({ time: { $lt: before } })).deletedCount;
  }
}
