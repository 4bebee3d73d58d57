/**
 * Metapixel's progress view of an operation (metapixel.v1.Jobs.GetOperationProgress), for
 * progress bars: Google's BatchOperationMetadata only says PROCESSING until the end. Job
 * handlers put a `progress` object (JobProgress) in the checkpoint they write with each
 * progress step; this service reads it back with the operation's state.
 */
import type { CallContext } from '../core/context';
import { names } from '../core/names';
import { toTimestamp } from '../core/messages';
import type { OperationRecord } from '../store/operation-store';
import { opName, type OperationsService } from './operations-service';

/**
 * Counts a job reports as it goes, in its own items: CSV lines for an import, deleted
 * products for PurgeProducts, images for AsyncBatchAnnotateImages.
 */
export interface JobProgress {
  /** Known once counted; absent before. */
  totalLines?: number;
  processedLines: number;
  failedLines: number;
}

type State = 'QUEUED' | 'PROCESSING' | 'SUCCESSFUL' | 'FAILED' | 'CANCELLED';

export class ProgressService {
  constructor(private readonly operations: OperationsService) {}

  async getOperationProgress(req: { name?: string }, ctx: CallContext) {
    const rec = await this.operations.load(req.name, ctx);
    const name = opName(rec);
    const p = (rec.checkpoint as { progress?: Partial<JobProgress> } | undefined)?.progress ?? {};
    const processed = p.processedLines ?? 0;
    const failed = p.failedLines ?? 0;
    return {
      name: names.operation(name),
      kind: rec.kind,
      state: stateOf(rec),
      done: rec.done,
      totalLines: String(p.totalLines ?? 0),
      totalKnown: p.totalLines !== undefined,
      processedLines: String(processed),
      succeededLines: String(processed - failed),
      failedLines: String(failed),
      createTime: toTimestamp(rec.createTime),
      updateTime: toTimestamp(rec.updateTime),
      error: rec.error ? { code: rec.error.code, message: rec.error.message, details: [] } : null,
    };
  }
}

function stateOf(rec: OperationRecord): State {
  const meta = rec.metadata as { state?: string } | undefined;
  if (rec.done) {
    if (meta?.state === 'SUCCESSFUL' || meta?.state === 'FAILED' || meta?.state === 'CANCELLED') return meta.state;
    if (rec.error) return rec.error.code === 1 ? 'CANCELLED' : 'FAILED';
    return 'SUCCESSFUL';
  }
  return rec.leaseOwner || rec.checkpoint !== undefined ? 'PROCESSING' : 'QUEUED';
}
