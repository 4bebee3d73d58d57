/**
 * The storage port of the index change feed, which every process's search index follows:
 * catalog writers append what a write changed after the write is stored (recordIndexChanges
 * in catalog-service.ts), and each CatalogIndex reads the changes past its watermark.
 */
import type { LocationName } from '../core/names';

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

/** An entry of the index change feed (see IndexFeedStore.appendIndexChanges). */
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

export interface IndexFeedStore {
  /** Appends the changes of one scope; resolves once they are durable, with their seqs. */
  appendIndexChanges(scope: LocationName, changes: readonly IndexChangeTarget[], now: Date): Promise<number[]>;
  /** Changes with seq > `after`, ascending, at most `limit`. */
  listIndexChanges(after: number, limit: number): Promise<IndexChange[]>;
  indexFeedHead(): Promise<IndexFeedHead>;
  /** Deletes the changes stored before `before`; resolves how many went. */
  trimIndexChanges(before: Date): Promise<number>;
  /**
   * Where the store can push appends (MongoDB change streams, on a replica set or a sharded
   * cluster): calls `onAppend` soon after any process appends changes, and `onError` if the
   * push stops for good. Resolves a function that stops it, or undefined where the store
   * cannot push (a standalone mongod, jongodb, the embedded store): readers then poll
   * alone. The push only wakes a reader; what changed is read from the feed, in seq order.
   */
  watchIndexChanges?(onAppend: () => void, onError: (err: unknown) => void): Promise<(() => Promise<void>) | undefined>;
}
