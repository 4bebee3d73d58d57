/**
 * Long-running operations and their leases in MongoDB.
 *
 * A claim is one findOneAndUpdate whose filter requires a free or expired lease: MongoDB
 * applies a single-document update atomically and re-evaluates the filter when two
 * writers race, so at most one claimer matches. A lease is held until another worker
 * claims it or the owner releases it.
 */
import type { OperationName } from '../../core/names';
import type { Page } from '../catalog-store';
import type { OperationPatch, OperationRecord, OperationResultChunk, OperationScope, OperationStore } from '../operation-store';
import type { Collections } from './collections';
import { copyStatus, operationFromDoc, operationId, operationToDoc, toJson, type OperationDoc } from './documents';
import { afterCursor, pageLimit } from './paging';

const idOf = (n: OperationName) => operationId(n.project, n.location, n.operation);

export class MongoOperations implements OperationStore {
  constructor(private readonly c: Collections) {}

  async createOperation(rec: OperationRecord): Promise<void> {
    await this.c.operations.insertOne(operationToDoc(rec));
  }

  async getOperation(name: OperationName): Promise<OperationRecord | null> {
    const d = await this.c.operations.findOne({ _id: idOf(name) });
    return d && operationFromDoc(d);
  }

  async listOperations(scope: OperationScope, page: Page): Promise<OperationRecord[]> {
    const limit = pageLimit(page);
    if (limit === 0) return [];
    // location null matches exactly the project-level operations: it is always stored.
    const docs = await this.c.operations
      .find({ project: scope.project, location: scope.location, id: afterCursor(page) })
      .sort({ id: 1 })
      .limit(limit)
      .toArray();
    return docs.map(operationFromDoc);
  }

  async updateOperation(name: OperationName, patch: OperationPatch, now: Date): Promise<OperationRecord | null> {
    const d = await this.c.operations.findOneAndUpdate({ _id: idOf(name) }, { $set: patchToSet(patch, now) }, { returnDocument: 'after' });
    return d && operationFromDoc(d);
  }

  /** The operation first, then its results: an interruption leaves only orphaned chunks,
   *  which nothing reads (ids are random, never reused), never a done operation whose
   *  response has lost part of its results. */
  async deleteOperation(name: OperationName): Promise<boolean> {
    const deleted = (await this.c.operations.deleteOne({ _id: idOf(name) })).deletedCount === 1;
    await this.c.operationResults.deleteMany({ op: idOf(name) });
    return deleted;
  }

  async putOperationResults(name: OperationName, chunk: number, items: readonly unknown[]): Promise<void> {
    const op = idOf(name);
    const _id = `${op}/${chunk}`;
    await this.c.operationResults.replaceOne({ _id }, { op, chunk, items: JSON.stringify(items) }, { upsert: true });
  }

  async listOperationResults(name: OperationName, afterChunk: number, limit: number): Promise<OperationResultChunk[]> {
    if (!(limit > 0)) return [];
    const docs = await this.c.operationResults
      .find({ op: idOf(name), chunk: { $gt: afterChunk } })
      .sort({ chunk: 1 })
      .limit(Math.floor(limit))
      .toArray();
    return docs.map((d) => ({ chunk: d.chunk, items: JSON.parse(d.items) as unknown[] }));
  }

  async claimOperation(owner: string, now: Date, leaseMs: number): Promise<OperationRecord | null> {
    const d = await this.c.operations.findOneAndUpdate(
      { done: false, $or: [{ leaseUntil: null }, { leaseUntil: { $lte: now } }] },
      { $set: { leaseOwner: owner, leaseUntil: new Date(now.getTime() + leaseMs) } },
      { sort: { createTime: 1, _id: 1 }, returnDocument: 'after' },
    );
    return d && operationFromDoc(d);
  }

  async renewLease(name: OperationName, owner: string, now: Date, leaseMs: number): Promise<boolean> {
    const r = await this.c.operations.updateOne(
      { _id: idOf(name), leaseOwner: owner },
      { $set: { leaseUntil: new Date(now.getTime() + leaseMs) } },
    );
    // matched, not modified: renewing to the same instant is still a held lease.
    return r.matchedCount === 1;
  }

  async releaseLease(name: OperationName, owner: string): Promise<void> {
    await this.c.operations.updateOne({ _id: idOf(name), leaseOwner: owner }, { $set: { leaseOwner: null, leaseUntil: null } });
  }
}

/** Fields left undefined in the patch keep their stored value. */
function patchToSet(patch: OperationPatch, now: Date): Partial<OperationDoc> {
  const set: Partial<OperationDoc> = { updateTime: now };
  if (patch.done !== undefined) set.done = patch.done;
  if (patch.cancelRequested !== undefined) set.cancelRequested = patch.cancelRequested;
  if (patch.metadata !== undefined) set.metadata = toJson(patch.metadata);
  if (patch.response !== undefined) set.response = toJson(patch.response);
  if (patch.error !== undefined) set.error = copyStatus(patch.error);
  if (patch.checkpoint !== undefined) set.checkpoint = toJson(patch.checkpoint);
  return set;
}
