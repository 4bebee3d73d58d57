/** Operation records to google.longrunning.Operation messages. */
import { names } from '../core/names';
import { toTimestamp } from '../core/messages';
import type { OperationRecord } from '../store/operation-store';

/** google.cloud.vision.v1.BatchOperationMetadata, the metadata of imports and purges. */
export const BATCH_METADATA_TYPE = 'type.googleapis.com/google.cloud.vision.v1.BatchOperationMetadata';
export type BatchState = 'PROCESSING' | 'SUCCESSFUL' | 'FAILED' | 'CANCELLED';

export function batchMetadata(submitted: Date, state: BatchState, ended?: Date) {
  return { '@type': BATCH_METADATA_TYPE, state, submitTime: toTimestamp(submitted), ...(ended ? { endTime: toTimestamp(ended) } : {}) };
}

/**
 * Metadata and responses are stored as `{'@type': url, ...fields}`; protobufjs packs that
 * form into google.protobuf.Any for gRPC, and the REST codec renders it as proto3 JSON.
 */
export function toOperationMsg(r: OperationRecord, response: unknown = r.response) {
  const name = names.operation({ project: r.project, location: r.location, operation: r.id });
  const base = { name, metadata: r.metadata ?? null, done: r.done };
  if (!r.done) return base;
  if (r.error) return { ...base, error: { code: r.error.code, message: r.error.message, details: [] } };
  return { ...base, response: response ?? { '@type': 'type.googleapis.com/google.protobuf.Empty' } };
}
