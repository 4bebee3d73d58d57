/**
 * Runs persisted operations. Workers claim an operation by taking its lease in the store,
 * renew the lease while they work, and write progress with a handler-owned checkpoint.
 * A process that dies (even kill -9) stops renewing; once the lease expires another worker
 * (or the restarted process) claims the operation and the handler resumes from its last
 * checkpoint. Handlers must be idempotent per checkpointed step.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Code, isMetapixelError } from '../core/errors';
import { projectPrincipal, runInCall } from '../core/context';
import type { OperationName } from '../core/names';
import type { StatusRecord } from '../store/catalog-store';
import type { OperationRecord, OperationStore } from '../store/operation-store';
import { opName } from './operations-service';

export interface JobControl {
  /** Aborted when the operation is cancelled, its lease is lost, or the server shuts down. */
  readonly signal: AbortSignal;
  /** Persists progress metadata and the resume point together. */
  progress(metadata: unknown, checkpoint?: unknown): Promise<void>;
}

export type JobOutcome = 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export interface JobHandler {
  readonly kind: string;
  /** Resolves with the operation's response (JSON-safe, `@type`-tagged). */
  run(op: OperationRecord, ctl: JobControl): Promise<unknown>;
  /**
   * The metadata written together with `done`, e.g. BatchOperationMetadata with its final
   * state and end time. Without it the last progress metadata stays as it is.
   */
  finalMetadata?(op: OperationRecord, outcome: JobOutcome, now: Date): unknown;
}

export interface JobRunnerOptions {
  concurrency: number;
  leaseMs: number;
  pollMs: number;
}

type StopReason = 'cancelled' | 'lease-lost' | 'shutdown';

export class JobRunner {
  readonly owner = `worker-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly handlers: Map<string, JobHandler>;
  private readonly running = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;
  private closed = false;
  private claiming = false;

  constructor(
    private readonly store: OperationStore,
    handlers: JobHandler[],
    private readonly opts: JobRunnerOptions,
    private readonly log: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.handlers = new Map(handlers.map((h) => [h.kind, h]));
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), this.opts.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** Claims and starts as many operations as capacity allows. */
  wake(): void {
    if (this.closed || this.claiming) return;
    this.claiming = true;
    this.fill()
      .catch((err: unknown) => this.log.error({ err }, 'job claim failed'))
      .finally(() => (this.claiming = false));
  }

  private async fill(): Promise<void> {
    while (!this.closed && this.running.size < this.opts.concurrency) {
      const op = await this.store.claimOperation(this.owner, this.clock(), this.opts.leaseMs);
      if (!op) return;
      const p = this.execute(op).finally(() => {
        this.running.delete(op.id);
        this.wake();
      });
      this.running.set(op.id, p);
    }
  }

  private async execute(op: OperationRecord): Promise<void> {
    const name = opName(op);
    const abort = new AbortController();
    let reason: StopReason | undefined;
    const stop = (r: StopReason) => {
      reason ??= r;
      abort.abort(r);
    };
    this.stoppers.set(op.id, stop);
    const heartbeat = setInterval(() => void this.heartbeat(op, stop), Math.max(50, this.opts.leaseMs / 3));
    try {
      if (op.cancelRequested) stop('cancelled');
      const handler = this.handlers.get(op.kind);
      if (!handler) throw Object.assign(new Error(`no handler for ${op.kind}`), { code: Code.UNIMPLEMENTED });
      abort.signal.throwIfAborted();
      const ctl: JobControl = {
        signal: abort.signal,
        progress: async (metadata, checkpoint) => {
          await this.store.updateOperation(name, { metadata, checkpoint }, this.clock());
        },
      };
      // The worker acts for the operation's project only (its gs:// reads and writes too),
      // whichever call happened to wake it. Its stop is the call's signal, so a cancelled
      // operation's inference runs still waiting in a queue are dropped (inference.ts); each
      // job keeps the work cut short by a stop out of what it records.
      const ctx = { principal: projectPrincipal(op.project, `operation:${op.id}`), requestId: `operation:${op.id}`, signal: abort.signal };
      const response = await runInCall(ctx, () => handler.run(op, ctl));
      abort.signal.throwIfAborted();
      await this.store.updateOperation(name, { done: true, response, ...this.final(op, 'SUCCEEDED') }, this.clock());
      this.log.info({ operation: op.id, kind: op.kind }, 'operation done');
    } catch (err) {
      await this.fail(op, reason, err);
    } finally {
      clearInterval(heartbeat);
      this.stoppers.delete(op.id);
      await this.store.releaseLease(name, this.owner).catch(() => undefined);
    }
  }

  /** Stop functions of the operations running here, by operation id. */
  private readonly stoppers = new Map<string, (r: StopReason) => void>();

  /** A cancel stored by this process: stop the operation now if it runs here. */
  cancelLocal(name: OperationName): void {
    this.stoppers.get(name.operation)?.('cancelled');
  }

  private async heartbeat(op: OperationRecord, stop: (r: StopReason) => void): Promise<void> {
    try {
      const name = opName(op);
      if (!(await this.store.renewLease(name, this.owner, this.clock(), this.opts.leaseMs))) return stop('lease-lost');
      const fresh = await this.store.getOperation(name);
      if (fresh?.cancelRequested) stop('cancelled');
    } catch (err) {
      this.log.warn({ err, operation: op.id }, 'lease renewal failed');
    }
  }

  private async fail(op: OperationRecord, reason: StopReason | undefined, err: unknown): Promise<void> {
    if (reason === 'shutdown' || reason === 'lease-lost') {
      this.log.info({ operation: op.id, reason }, 'operation paused; it resumes from its checkpoint');
      return;
    }
    const error: StatusRecord =
      reason === 'cancelled'
        ? { code: Code.CANCELLED, message: 'Operation cancelled.' }
        : isMetapixelError(err)
          ? err.toStatus()
          : { code: (err as { code?: number }).code ?? Code.INTERNAL, message: (err as Error).message ?? 'Internal error.' };
    if (!reason && !isMetapixelError(err)) this.log.error({ err, operation: op.id }, 'operation failed');
    const outcome = reason === 'cancelled' ? 'CANCELLED' : 'FAILED';
    await this.store.updateOperation(opName(op), { done: true, error, ...this.final(op, outcome) }, this.clock());
  }

  /** The handler's end-state metadata, as a patch (empty when it has none). */
  private final(op: OperationRecord, outcome: JobOutcome): { metadata?: unknown } {
    const handler = this.handlers.get(op.kind);
    return handler?.finalMetadata ? { metadata: handler.finalMetadata(op, outcome, this.clock()) } : {};
  }

  /** Stops claiming, pauses running operations (they resume elsewhere or after restart). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const stop of this.stoppers.values()) stop('shutdown');
    await Promise.allSettled([...this.running.values()]);
  }
}
