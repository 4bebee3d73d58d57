/**
 * images:asyncBatchAnnotate (AsyncBatchAnnotateImages): the call checks the request as
 * images:annotate does (allowing Google's 2000 images), persists it as an operation and
 * answers at once; a JobRunner worker then annotates the images batch by batch and writes
 * each batch to Cloud Storage as Google lays the output out:
 * `{uri}output-{first}-to-{last}.json` (1-based, inclusive), each file a proto3-JSON
 * BatchAnnotateImagesResponse of at most `batchSize` responses, in request order. The
 * checkpoint after each written file is the next batch, so a restarted worker goes on from
 * there (a file written twice has the same name and content); a cancel stops between
 * batches.
 */
import { projectPrincipal, runInCall, type CallContext } from '../core/context';
import type { Principal } from '../core/auth';
import { invalidArgument, isMetapixelError, permissionDenied, Code } from '../core/errors';
import { names } from '../core/names';
import { mapLimit } from '../core/concurrency';
import { toTimestamp, type Timestamp } from '../core/messages';
import type { OperationRecord } from '../store/operation-store';
import type { JobControl, JobHandler, JobOutcome } from './job-runner';
import type { OperationsService } from './operations-service';
import { toOperationMsg } from './operation-view';
import type { JobProgress } from './progress';
import { MAX_OBJECT_NAME_BYTES, parseGsPrefix, type GcsWriter } from '../images/gcs-writer';
import type { AnnotateImageRequestMsg, AnnotateImageResponseMsg, AnnotateService } from '../annotate/annotate-service';
import { checkImageBatch } from '../annotate/image-batch';

export const ASYNC_ANNOTATE_KIND = 'async-batch-annotate-images';
/** Google's limit for one images:asyncBatchAnnotate request (cloud.google.com/vision/docs/batch). */
export const MAX_ASYNC_IMAGES = 2000;
const DEFAULT_BATCH_SIZE = 20;
const MAX_BATCH_SIZE = 100;
const METADATA_TYPE = 'type.googleapis.com/google.cloud.vision.v1.OperationMetadata';
const RESPONSE_TYPE = 'type.googleapis.com/google.cloud.vision.v1.AsyncBatchAnnotateImagesResponse';

interface OutputConfigMsg {
  gcsDestination?: { uri?: string } | null;
  batchSize?: number;
}

export interface AsyncBatchAnnotateImagesRequestMsg {
  requests?: AnnotateImageRequestMsg[];
  outputConfig?: OutputConfigMsg | null;
  parent?: string;
  labels?: Record<string, string>;
}

type State = 'CREATED' | 'RUNNING' | 'DONE' | 'CANCELLED';

/** The persisted job input: image bytes as base64 so the record stays plain JSON. */
interface StoredRequest {
  requests: (Omit<AnnotateImageRequestMsg, 'image'> & { image?: { content?: string; source?: unknown } | null })[];
  outputConfig: { gcsDestination: { uri: string }; batchSize: number };
}

interface Checkpoint {
  /** Index of the first batch not yet written. */
  nextBatch: number;
  /** Images with an error in the batches written so far. */
  failed?: number;
  /** For GetOperationProgress, in images. */
  progress?: JobProgress;
}

export class AsyncAnnotateService {
  constructor(
    private readonly operations: OperationsService,
    private readonly writer: GcsWriter,
    /** Project of an operation whose request has no parent and whose caller implies none. */
    private readonly defaultProject: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async asyncBatchAnnotateImages(req: AsyncBatchAnnotateImagesRequestMsg, ctx: CallContext) {
    const requests = checkImageBatch(req, ctx, MAX_ASYNC_IMAGES);
    const outputConfig = checkOutputConfig(req.outputConfig, requests.length);
    checkLabels(req.labels);
    // Google bills a parent-less call to the caller's own project; here that is the first
    // project of the caller's credential, else the server's METAPIXEL_DEFAULT_PROJECT.
    const scope = req.parent
      ? names.parseProjectScope(req.parent, 'parent')
      : { project: ctx.principal.defaultProject ?? this.defaultProject, location: null };
    ctx.principal.assertProject(scope.project);
    // The worker writes for the operation's project: its bucket must be that project's.
    const { bucket } = parseGsPrefix(outputConfig.gcsDestination.uri, 'outputConfig.gcsDestination.uri');
    runInCall({ principal: projectPrincipal(scope.project, ctx.principal.id), requestId: ctx.requestId }, () =>
      this.writer.checkAccess(bucket),
    );
    const now = toTimestamp(this.clock());
    const stored: StoredRequest = { requests: requests.map(storeImage), outputConfig };
    const rec = await this.operations.enqueue({
      ...scope,
      kind: ASYNC_ANNOTATE_KIND,
      request: stored,
      metadata: metadataOf('CREATED', now, now),
    });
    return toOperationMsg(rec);
  }
}

export interface AsyncAnnotateJobOptions {
  /** Images of one batch annotated at once (fetch and decode overlap inference). */
  concurrency: number;
  /** Waits before retrying an image whose inference queue was full (RESOURCE_EXHAUSTED). */
  retryDelaysMs: number[];
}

export class AsyncAnnotateJob implements JobHandler {
  readonly kind = ASYNC_ANNOTATE_KIND;

  constructor(
    private readonly annotator: AnnotateService,
    private readonly writer: GcsWriter,
    /** A BatchAnnotateImagesResponse as canonical proto3 JSON (the api layer's codec). */
    private readonly encode: (msg: { responses: AnnotateImageResponseMsg[] }) => string,
    private readonly opts: AsyncAnnotateJobOptions,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async run(op: OperationRecord, ctl: JobControl): Promise<unknown> {
    const req = op.request as StoredRequest;
    const { batchSize, gcsDestination } = req.outputConfig;
    const { bucket, prefix } = parseGsPrefix(gcsDestination.uri, 'outputConfig.gcsDestination.uri');
    const ctx: CallContext = { principal: operationPrincipal(op), requestId: `operation:${op.id}`, signal: ctl.signal };
    const created = createTimeOf(op);
    const saved = op.checkpoint as Checkpoint | undefined;
    let next = saved?.nextBatch ?? 0;
    let failed = saved?.failed ?? 0;
    const total = req.requests.length;
    const checkpoint = (nextBatch: number): Checkpoint => ({
      nextBatch,
      failed,
      progress: { totalLines: total, processedLines: Math.min(total, nextBatch * batchSize), failedLines: failed },
    });
    await ctl.progress(metadataOf('RUNNING', created, toTimestamp(this.clock())), checkpoint(next));
    for (; next * batchSize < req.requests.length; next++) {
      ctl.signal.throwIfAborted();
      const first = next * batchSize;
      const batch = req.requests.slice(first, first + batchSize).map(loadImage);
      const responses = await mapLimit(batch, this.opts.concurrency, (r) => this.annotate(r, ctx, ctl.signal));
      // Images cut short by a stop are not results: a paused batch is redone from the start.
      ctl.signal.throwIfAborted();
      const object = `${prefix}output-${first + 1}-to-${first + batch.length}.json`;
      await this.write(bucket, object, Buffer.from(this.encode({ responses })), ctl.signal);
      failed += responses.filter((r) => r.error).length;
      await ctl.progress(metadataOf('RUNNING', created, toTimestamp(this.clock())), checkpoint(next + 1));
    }
    return { '@type': RESPONSE_TYPE, outputConfig: req.outputConfig };
  }

  /** OperationMetadata has no failed state: a failed operation ends DONE with its error. */
  finalMetadata(op: OperationRecord, outcome: JobOutcome, now: Date): unknown {
    return metadataOf(outcome === 'CANCELLED' ? 'CANCELLED' : 'DONE', createTimeOf(op), toTimestamp(now));
  }

  /** Storage that is briefly unreachable is retried; other write errors fail the operation. */
  private async write(bucket: string, object: string, body: Buffer, signal: AbortSignal): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.writer.write(bucket, object, body, 'application/json', signal);
      } catch (e) {
        const transient = isMetapixelError(e) && (e.code === Code.UNAVAILABLE || e.code === Code.DEADLINE_EXCEEDED);
        if (!transient || attempt >= this.opts.retryDelaysMs.length) throw e;
        signal.throwIfAborted();
        await new Promise((resolve) => setTimeout(resolve, this.opts.retryDelaysMs[attempt]));
      }
    }
  }

  /** One image; a full inference queue is waited out rather than written as the result. */
  private async annotate(r: AnnotateImageRequestMsg, ctx: CallContext, signal: AbortSignal): Promise<AnnotateImageResponseMsg> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.annotator.annotateOne(r, ctx);
      if (res.error?.code !== Code.RESOURCE_EXHAUSTED || attempt >= this.opts.retryDelaysMs.length) return res;
      signal.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, this.opts.retryDelaysMs[attempt]));
    }
  }
}

function checkOutputConfig(cfg: OutputConfigMsg | null | undefined, images: number): StoredRequest['outputConfig'] {
  const field = 'outputConfig.gcsDestination.uri';
  const uri = cfg?.gcsDestination?.uri;
  if (!uri) throw invalidArgument(`Missing required field: ${field}.`);
  if (!uri.startsWith('gs://')) throw invalidArgument(`Invalid ${field} "${uri.slice(0, 200)}": it must start with gs://.`);
  const { prefix } = parseGsPrefix(uri, field);
  // proto3 cannot tell an unset int32 from 0, so 0 means "not specified": Google's 20.
  const batchSize = cfg?.batchSize || DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw invalidArgument(`Invalid outputConfig.batchSize ${cfg?.batchSize}: the valid range is [1, ${MAX_BATCH_SIZE}].`);
  }
  const longest = `${prefix}output-${images}-to-${images}.json`;
  if (Buffer.byteLength(longest) > MAX_OBJECT_NAME_BYTES) {
    throw invalidArgument(`Invalid ${field}: output object names would exceed Cloud Storage's ${MAX_OBJECT_NAME_BYTES} bytes.`);
  }
  return { gcsDestination: { uri }, batchSize };
}

/** Google's label rules: keys start with a letter; keys and values ≤ 63 of [a-z0-9_-] or non-ASCII. */
function checkLabels(labels: Record<string, string> | undefined): void {
  for (const [k, v] of Object.entries(labels ?? {})) {
    const ok = (s: string) => [...s].length <= 63 && /^[\p{Ll}\p{Lo}\p{N}_-]*$/u.test(s);
    if (!/^\p{Ll}|^\p{Lo}/u.test(k) || !ok(k) || !ok(v ?? '')) {
      throw invalidArgument(
        `Invalid label "${k.slice(0, 70)}": keys start with a lowercase letter; keys and values are at most 63 lowercase letters, digits, '_' or '-'.`,
      );
    }
  }
}

/**
 * The worker has no caller's credentials: it acts for the operation's project only, so
 * PRODUCT_SEARCH in an async batch reaches product sets of that project.
 */
function operationPrincipal(op: OperationRecord): Principal {
  return {
    id: `operation:${op.id}`,
    defaultProject: op.project,
    assertProject(project: string) {
      if (project !== op.project)
        throw permissionDenied(`Permission denied on resource project ${project}: this operation belongs to project ${op.project}.`);
    },
  };
}

function storeImage(r: AnnotateImageRequestMsg): StoredRequest['requests'][number] {
  const content = r.image?.content;
  return { ...r, image: r.image ? { ...r.image, content: content?.length ? Buffer.from(content).toString('base64') : '' } : null };
}

function loadImage(r: StoredRequest['requests'][number]): AnnotateImageRequestMsg {
  const image = r.image ? { ...r.image, content: Buffer.from(r.image.content ?? '', 'base64') } : null;
  return { ...r, image } as AnnotateImageRequestMsg;
}

function createTimeOf(op: OperationRecord): Timestamp {
  return (op.metadata as { createTime?: Timestamp } | null)?.createTime ?? toTimestamp(op.createTime);
}

function metadataOf(state: State, createTime: Timestamp, updateTime: Timestamp) {
  return { '@type': METADATA_TYPE, state, createTime, updateTime };
}
