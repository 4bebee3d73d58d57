/**
 * google.longrunning.Operations over the operations the store keeps. Operation ids are
 * random and unguessable; names carry their project, and every call checks it.
 */
import { randomBytes } from 'node:crypto';
import { failedPrecondition, invalidArgument, notFound } from '../core/errors';
import type { CallContext } from '../core/context';
import { names, type OperationName } from '../core/names';
import { paginate } from '../catalog/page-token';
import type { OperationRecord, OperationStore } from '../store/operation-store';
import { toOperationMsg } from './operation-view';

export interface NewOperation {
  project: string;
  location: string | null;
  kind: string;
  request: unknown;
  metadata: unknown;
}

/**
 * Builds a done operation's response from results kept apart from its record (an
 * import's per-line statuses live in result chunks; see OperationStore.putOperationResults).
 */
export type ResponseAssembler = (rec: OperationRecord) => Promise<unknown>;

export interface OperationsHooks {
  clock?: () => Date;
  /** Nudged after an operation is queued so a worker picks it up without waiting a poll. */
  onQueued?: () => void;
  /**
   * Told after a cancel is stored, so a job running in this process stops at once; jobs
   * running elsewhere see the flag at their next lease renewal.
   */
  onCancelRequested?: (name: OperationName) => void;
  /** Per operation kind. */
  assemblers?: Readonly<Record<string, ResponseAssembler>>;
}

export class OperationsService {
  private readonly clock: () => Date;
  private readonly assemblers: Readonly<Record<string, ResponseAssembler>>;

  constructor(
    private readonly store: OperationStore,
    private readonly hooks: OperationsHooks = {},
  ) {
    this.clock = hooks.clock ?? (() => new Date());
    this.assemblers = hooks.assemblers ?? {};
  }

  /** Persists a new operation; it is durable (and will run) once this resolves. */
  async enqueue(op: NewOperation): Promise<OperationRecord> {
    const now = this.clock();
    const rec: OperationRecord = {
      ...op,
      id: randomBytes(12).toString('hex'),
      done: false,
      cancelRequested: false,
      createTime: now,
      updateTime: now,
    };
    await this.store.createOperation(rec);
    this.hooks.onQueued?.();
    return rec;
  }

  async getOperation(req: { name?: string }, ctx: CallContext) {
    return this.view(await this.load(req.name, ctx));
  }

  async listOperations(req: { name?: string; filter?: string; pageSize?: number; pageToken?: string }, ctx: CallContext) {
    const scope = names.parseProjectScope(req.name, 'name');
    ctx.principal.assertProject(scope.project);
    if (req.filter) throw invalidArgument('ListOperations does not support a filter.');
    const page = await paginate(`operations:${req.name}`, req.pageSize, req.pageToken, (after, limit) =>
      this.store.listOperations(scope, { after, limit }),
    );
    return { operations: await Promise.all(page.items.map((r) => this.view(r))), nextPageToken: page.nextPageToken };
  }

  /** Asks a running operation to stop; it then ends with CANCELLED. A done one is left as it is. */
  async cancelOperation(req: { name?: string }, ctx: CallContext) {
    const rec = await this.load(req.name, ctx);
    if (!rec.done) {
      await this.store.updateOperation(opName(rec), { cancelRequested: true }, this.clock());
      this.hooks.onCancelRequested?.(opName(rec));
    }
    return {};
  }

  async deleteOperation(req: { name?: string }, ctx: CallContext) {
    const rec = await this.load(req.name, ctx);
    if (!rec.done) throw failedPrecondition('Only finished operations can be deleted; cancel it first.');
    await this.store.deleteOperation(opName(rec));
    return {};
  }

  private async view(rec: OperationRecord) {
    const assemble = this.assemblers[rec.kind];
    return toOperationMsg(rec, rec.done && !rec.error && assemble ? await assemble(rec) : rec.response);
  }

  /** The named operation, if the caller may see it (the one scoped lookup every view uses). */
  async load(name: string | undefined, ctx: CallContext): Promise<OperationRecord> {
    // Google's legacy project-less forms are routed, but no Metapixel operation has such a
    // name: names carry their project so that every lookup is scoped to a tenant.
    if (/^(locations\/[^/]+\/)?operations\/[^/]+$/.test(name ?? '')) {
      throw notFound(`Operation ${name} not found (Metapixel operations are named projects/*/locations/*/operations/*).`);
    }
    const parsed = names.parseOperation(name);
    ctx.principal.assertProject(parsed.project);
    const rec = await this.store.getOperation(parsed);
    if (!rec) throw notFound(`Operation ${name} not found.`);
    return rec;
  }
}

export const opName = (r: OperationRecord): OperationName => ({ project: r.project, location: r.location, operation: r.id });
