/**
 * One opened database and the store ports over it. The composition root hands each
 * component only the port it needs; only this handle pings and closes the connection.
 */
import type { CatalogStore } from './catalog-store';
import type { IndexFeedStore } from './index-feed-store';
import type { OperationStore } from './operation-store';

export interface Stores {
  readonly kind: string;
  readonly catalog: CatalogStore;
  readonly operations: OperationStore;
  readonly indexFeed: IndexFeedStore;
  /** Resolves when the database answers; throws otherwise. Used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
