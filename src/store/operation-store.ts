/**
 * The storage port of long-running operations: their records, per-item results and the
 * leases that let one worker at a time run each (the job runner's queue). The contract
 * rules of catalog-store.ts (durability, keyset paging, scopes, dates) apply here too.
 */
import type { OperationName } from '../core/names';
import type { Page, StatusRecord } from './catalog-store';

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

/** Operations are listed per project and location; null is the project-level scope. */
export interface OperationScope {
  project: string;
  location: string | null;
}

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

export type OperationPatch = Partial<Pick<OperationRecord, 'done' | 'metadata' | 'response' | 'error' | 'checkpoint' | 'cancelRequested'>>;

export interface OperationStore {
  /** Throws on a duplicate id: operation ids are generated unique, so one is a bug. */
  createOperation(rec: OperationRecord): Promise<void>;
  getOperation(name: OperationName): Promise<OperationRecord | null>;
  listOperations(scope: OperationScope, page: Page): Promise<OperationRecord[]>;
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
}
