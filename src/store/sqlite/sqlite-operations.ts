/**
 * The operations table of the SQLite store: long-running operations and their leases.
 *
 * A lease is held by `lease_owner` until another worker claims it after `lease_until`
 * passed, or the owner releases it. Claims run in an IMMEDIATE transaction, so two claimers
 * (in this process or another one on the same file) never take the same operation.
 */
import type { OperationName } from '../../core/names';
import type { Page } from '../catalog-store';
import type { OperationPatch, OperationRecord, OperationResultChunk, OperationScope, OperationStore } from '../operation-store';
import { operationFromRow, operationToRow, opLocation, toJson, type OperationRow } from './codec';
import { pageParams, type Sql } from './sql';

const KEY = 'project = @project AND location = @location AND id = @id';
const key = (n: OperationName) => ({ project: n.project, location: opLocation(n.location), id: n.operation });

export class SqliteOperations implements OperationStore {
  constructor(private readonly db: Sql) {}

  async createOperation(rec: OperationRecord): Promise<void> {
    const row = operationToRow(rec);
    const columns = Object.keys(row);
    const sql = `INSERT INTO operations (${columns.join(', ')}) VALUES (${columns.map((c) => '@' + c).join(', ')})`;
    this.db.stmt(sql).run(row);
  }

  async getOperation(name: OperationName): Promise<OperationRecord | null> {
    const row = this.getRow(key(name));
    return row ? operationFromRow(row) : null;
  }

  async listOperations(scope: OperationScope, page: Page): Promise<OperationRecord[]> {
    const sql = `SELECT * FROM operations WHERE project = @project AND location = @location AND id > @after
                 ORDER BY id LIMIT @limit`;
    const params = { project: scope.project, location: opLocation(scope.location), ...pageParams(page) };
    return this.db.stmt<OperationRow>(sql).all(params).map(operationFromRow);
  }

  async updateOperation(name: OperationName, patch: OperationPatch, now: Date): Promise<OperationRecord | null> {
    return this.db.tx(() => {
      const row = this.getRow(key(name));
      if (!row) return null;
      const next = applyPatch(row, patch, now);
      const sql = `UPDATE operations SET done = @done, metadata = @metadata, response = @response, error = @error,
                     checkpoint = @checkpoint, cancel_requested = @cancel_requested, update_time = @update_time
                   WHERE ${KEY}`;
      this.db.stmt(sql).run(next);
      return operationFromRow(next);
    });
  }

  async deleteOperation(name: OperationName): Promise<boolean> {
    return this.db.tx(() => {
      this.db.stmt(`DELETE FROM operation_results WHERE ${KEY}`).run(key(name));
      return this.db.stmt(`DELETE FROM operations WHERE ${KEY}`).run(key(name)).changes === 1;
    });
  }

  async putOperationResults(name: OperationName, chunk: number, items: readonly unknown[]): Promise<void> {
    const sql = `INSERT INTO operation_results (project, location, id, chunk, items)
                 VALUES (@project, @location, @id, @chunk, @items)
                 ON CONFLICT DO UPDATE SET items = excluded.items`;
    this.db.stmt(sql).run({ ...key(name), chunk, items: JSON.stringify(items) });
  }

  async listOperationResults(name: OperationName, afterChunk: number, limit: number): Promise<OperationResultChunk[]> {
    if (!(limit > 0)) return [];
    const sql = `SELECT chunk, items FROM operation_results WHERE ${KEY} AND chunk > @after ORDER BY chunk LIMIT @limit`;
    const rows = this.db.stmt<{ chunk: number; items: string }>(sql).all({ ...key(name), after: afterChunk, limit: Math.floor(limit) });
    return rows.map((r) => ({ chunk: r.chunk, items: JSON.parse(r.items) as unknown[] }));
  }

  /** Oldest first by createTime; ties broken by key so the order is total. */
  async claimOperation(owner: string, now: Date, leaseMs: number): Promise<OperationRecord | null> {
    return this.db.tx(() => {
      const pick = `SELECT * FROM operations
                    WHERE done = 0 AND (lease_until IS NULL OR lease_until <= @now)
                    ORDER BY create_time, project, location, id LIMIT 1`;
      const row = this.db.stmt<OperationRow>(pick).get({ now: +now });
      if (!row) return null;
      const next: OperationRow = { ...row, lease_owner: owner, lease_until: +now + leaseMs };
      const take = `UPDATE operations SET lease_owner = @lease_owner, lease_until = @lease_until WHERE ${KEY}`;
      this.db.stmt(take).run(next);
      return operationFromRow(next);
    });
  }

  /** A lease is held until someone else claims it or the owner releases it, so an owner
   *  whose lease ran out but was not yet re-claimed may still renew it. */
  async renewLease(name: OperationName, owner: string, now: Date, leaseMs: number): Promise<boolean> {
    const sql = `UPDATE operations SET lease_until = @until WHERE ${KEY} AND lease_owner = @owner`;
    return this.db.stmt(sql).run({ ...key(name), owner, until: +now + leaseMs }).changes === 1;
  }

  async releaseLease(name: OperationName, owner: string): Promise<void> {
    const sql = `UPDATE operations SET lease_owner = NULL, lease_until = NULL WHERE ${KEY} AND lease_owner = @owner`;
    this.db.stmt(sql).run({ ...key(name), owner });
  }

  private getRow(k: ReturnType<typeof key>): OperationRow | undefined {
    return this.db.stmt<OperationRow>(`SELECT * FROM operations WHERE ${KEY}`).get(k);
  }
}

/** Fields left undefined in the patch keep their stored value. */
function applyPatch(row: OperationRow, patch: OperationPatch, now: Date): OperationRow {
  const next: OperationRow = { ...row, update_time: +now };
  if (patch.done !== undefined) next.done = patch.done ? 1 : 0;
  if (patch.cancelRequested !== undefined) next.cancel_requested = patch.cancelRequested ? 1 : 0;
  if (patch.metadata !== undefined) next.metadata = toJson(patch.metadata);
  if (patch.response !== undefined) next.response = toJson(patch.response);
  if (patch.error !== undefined) next.error = toJson(patch.error);
  if (patch.checkpoint !== undefined) next.checkpoint = toJson(patch.checkpoint);
  return next;
}
