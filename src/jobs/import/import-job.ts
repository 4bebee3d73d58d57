/**
 * The ImportProductSets job. Streams the CSV line by line and imports lines with bounded
 * concurrency (so the inference workers stay busy), committing results in order: once a
 * run of consecutive lines is done (a chunk of `chunkLines`, or whatever is ready after
 * `flushMs`), their statuses go to the store as one result chunk and the checkpoint moves
 * past them. After a crash the job resumes at the checkpoint; lines after it may have been
 * applied already and are applied again, which the line importer makes idempotent. Memory
 * is bounded by the window of lines in flight or waiting for an earlier line, never by the
 * size of the file.
 *
 * Search: the changes of committed lines (each line's product in its set) go to the index
 * change feed at a checkpoint at most every `touchMs`, and are applied to this process's
 * index then; every other process applies them on its next poll. Each costs in
 * proportion to its product, not to the set.
 */
import type { Logger } from 'pino';
import { recordIndexChanges, type IndexRefresher } from '../../catalog/catalog-service';
import type { LocationName } from '../../core/names';
import { Code, isMetapixelError } from '../../core/errors';
import type { StatusRecord } from '../../store/catalog-store';
import type { IndexFeedStore } from '../../store/index-feed-store';
import type { OperationRecord, OperationStore } from '../../store/operation-store';
import type { JobControl, JobHandler, JobOutcome } from '../job-runner';
import { opName } from '../operations-service';
import type { JobProgress } from '../progress';
import type { TextSource } from './csv-source';
import { readLines, type RawLine } from './csv-lines';
import { parseImportLine } from './import-line';
import type { LineImporter } from './line-importer';
import { batchMetadata } from '../operation-view';
import { IMPORT_KIND, RESPONSE_TYPE, type ImportRequest, type LineResult } from './import-format';

/** A stored status code is a plain number; compared as one. */
const OK: number = Code.OK;
const CANCELLED: number = Code.CANCELLED;

export interface ImportJobOptions {
  /** Lines imported at once. */
  concurrency: number;
  chunkLines: number;
  flushMs: number;
  touchMs: number;
  maxLineBytes: number;
}

/** The resume point: lines [0, lines) are done and stored as chunks [0, chunks). */
interface Checkpoint {
  lines: number;
  chunks: number;
  ok: number;
  failed: number;
  /** Lines in the file (counted before the first line is imported). */
  total?: number;
  /** Changes of committed lines not yet recorded, as `${setId}/${productId}` (a bare set
   *  id, from older builds: a change of the whole set). */
  untouched: string[];
  progress: JobProgress;
}

export class ImportJob implements JobHandler {
  readonly kind = IMPORT_KIND;
  /** Outcome counts of the runs that finished here, for finalMetadata (then dropped). */
  private readonly finished = new Map<string, { ok: number }>();

  constructor(
    private readonly operations: OperationStore,
    private readonly feed: IndexFeedStore,
    private readonly source: TextSource,
    private readonly importer: LineImporter,
    private readonly index: IndexRefresher | undefined,
    private readonly opts: ImportJobOptions,
    private readonly log: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async run(op: OperationRecord, ctl: JobControl): Promise<unknown> {
    const req = op.request as ImportRequest;
    const scope: LocationName = { project: op.project, location: op.location ?? '' };
    const saved = op.checkpoint as Partial<Checkpoint> | undefined;
    const cp: Checkpoint = {
      lines: 0,
      chunks: 0,
      ok: 0,
      failed: 0,
      untouched: [],
      ...saved,
      progress: { processedLines: 0, failedLines: 0 },
    };
    if (cp.total === undefined) {
      cp.total = await this.countLines(req.csvUri, ctl.signal);
      await this.save(op, ctl, cp);
    }
    const run = new ImportRun(this, op, ctl, scope, cp);
    await run.execute(await this.source.open(req.csvUri, ctl.signal));
    this.finished.set(op.id, { ok: run.cp.ok });
    return { '@type': RESPONSE_TYPE };
  }

  finalMetadata(op: OperationRecord, outcome: JobOutcome, now: Date): unknown {
    const ok = this.finished.get(op.id)?.ok ?? 0;
    this.finished.delete(op.id);
    // Google: SUCCESSFUL when at least one line was imported, FAILED when none was.
    const state = outcome === 'CANCELLED' ? 'CANCELLED' : outcome === 'SUCCEEDED' && ok > 0 ? 'SUCCESSFUL' : 'FAILED';
    return batchMetadata(op.createTime, state, now);
  }

  /** A first pass that only counts lines, so progress can show a total. */
  private async countLines(uri: string, signal: AbortSignal): Promise<number> {
    let n = 0;
    for await (const _ of readLines(await this.source.open(uri, signal), this.opts.maxLineBytes)) n++;
    return n;
  }

  async save(op: OperationRecord, ctl: JobControl, cp: Checkpoint): Promise<void> {
    cp.progress = { totalLines: cp.total, processedLines: cp.lines, failedLines: cp.failed };
    await ctl.progress(batchMetadata(op.createTime, 'PROCESSING'), cp);
  }

  importLine(scope: LocationName, raw: RawLine, signal: AbortSignal): Promise<LineResult> {
    return (async (): Promise<LineResult> => {
      if ('error' in raw) return { s: { code: Code.INVALID_ARGUMENT, message: raw.error } };
      const line = parseImportLine(raw.index, raw.text);
      const ri = await this.importer.importLine(scope, line, signal);
      const change = line.productSetId ? { setId: line.productSetId, productId: line.productId } : undefined;
      return { s: { code: Code.OK, message: '' }, ri, ...(change ? { change } : {}) };
    })().catch((e: unknown) => {
      if (!isMetapixelError(e)) this.log.error({ err: e, line: raw.index }, 'import line failed unexpectedly');
      const status: StatusRecord = isMetapixelError(e)
        ? e.toStatus()
        : { code: Code.INTERNAL, message: `Line ${raw.index}: internal error.` };
      return {
        s: { code: status.code, message: status.message.startsWith('Line ') ? status.message : `Line ${raw.index}: ${status.message}` },
      };
    });
  }

  /** Records and applies here the changes named by `${setId}/${productId}` keys. */
  touch(scope: LocationName, keys: Iterable<string>): Promise<void> {
    const changes = [...keys].map((key) => {
      const [setId, productId] = key.split('/');
      return productId === undefined ? { setId } : { setId, productId };
    });
    return recordIndexChanges(this.feed, scope, changes, this.clock(), this.index);
  }

  storeResults(op: OperationRecord, chunk: number, items: LineResult[]): Promise<void> {
    return this.operations.putOperationResults(
      opName(op),
      chunk,
      items.map(({ change: _change, ...item }) => item),
    );
  }

  get options(): ImportJobOptions {
    return this.opts;
  }

  now(): number {
    return this.clock().getTime();
  }
}

/** One execution of an import: the window of lines in flight and the in-order commit. */
class ImportRun {
  private readonly done = new Map<number, LineResult>();
  private readonly inFlight = new Set<Promise<void>>();
  private pending: LineResult[] = [];
  private readonly dirty: Set<string>;
  private lastFlush: number;
  private lastTouch: number;
  private wake?: () => void;

  constructor(
    private readonly job: ImportJob,
    private readonly op: OperationRecord,
    private readonly ctl: JobControl,
    private readonly scope: LocationName,
    readonly cp: Checkpoint,
  ) {
    this.dirty = new Set(cp.untouched);
    this.lastFlush = this.lastTouch = job.now();
  }

  private get next(): number {
    return this.cp.lines + this.pending.length;
  }

  async execute(bytes: AsyncIterable<Uint8Array>): Promise<void> {
    const { concurrency, chunkLines } = this.job.options;
    // Lines done but waiting for an earlier one are held too: bound them as well.
    const window = concurrency + 4 * chunkLines;
    let failure: { error: unknown } | undefined; // boxed: a thrown undefined is a failure too
    try {
      for await (const raw of readLines(bytes, this.job.options.maxLineBytes)) {
        if (raw.index < this.cp.lines) continue; // committed before a restart
        for (;;) {
          await this.commit(false);
          if (this.inFlight.size < concurrency && this.inFlight.size + this.done.size < window) break;
          await this.settled(); // after commit, a line is held only behind one in flight
        }
        if (this.ctl.signal.aborted) break;
        this.start(raw);
      }
    } catch (e) {
      failure = { error: e };
    }
    // Lines in flight finish (never cut half-way), and every finished line is committed,
    // also when cancelled or shut down. Not when the lease was lost: another worker owns
    // the checkpoint now.
    while (this.inFlight.size > 0) await this.settled();
    const leaseLost = this.ctl.signal.reason === 'lease-lost';
    if (!leaseLost) await this.commit(true);
    if (failure !== undefined || this.ctl.signal.aborted) {
      // A cancelled or failed import is not resumed, so the changes of its last lines
      // must be recorded now or search would not see those lines. (A failing store may
      // fail this too; the import's own error is the one to report.)
      if (!leaseLost) await this.job.touch(this.scope, this.dirty).catch(() => undefined);
      if (failure !== undefined) throw failure.error;
      this.ctl.signal.throwIfAborted();
    }
    await this.job.touch(this.scope, this.dirty);
  }

  private start(raw: RawLine): void {
    const p: Promise<void> = this.job.importLine(this.scope, raw, this.ctl.signal).then((r) => {
      this.done.set(raw.index, r);
      this.inFlight.delete(p);
      this.wake?.();
    });
    this.inFlight.add(p);
  }

  private settled(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  /** Moves consecutive finished lines into the pending chunk; stores it when full or old. */
  private async commit(final: boolean): Promise<void> {
    for (let r = this.done.get(this.next); r; r = this.done.get(this.next)) {
      // A line whose work a stop cut short (its inference dropped) was not processed: the
      // committed lines end before it.
      if (r.s.code === CANCELLED && this.ctl.signal.aborted) break;
      this.done.delete(this.next);
      this.pending.push(r);
      if (r.s.code === OK && r.change) this.dirty.add(`${r.change.setId}/${r.change.productId}`);
      if (this.pending.length >= this.job.options.chunkLines) await this.flush();
    }
    const old = this.job.now() - this.lastFlush >= this.job.options.flushMs;
    if (this.pending.length > 0 && (final || old)) await this.flush();
  }

  private async flush(): Promise<void> {
    // Another worker owns the operation and its checkpoint now: write nothing more.
    if (this.ctl.signal.reason === 'lease-lost') return;
    const items = this.pending;
    const cp = this.cp;
    await this.job.storeResults(this.op, cp.chunks, items);
    cp.lines += items.length;
    cp.chunks += 1;
    for (const r of items) {
      if (r.s.code === OK) cp.ok++;
      else cp.failed++;
    }
    this.pending = [];
    const now = this.job.now();
    if (now - this.lastTouch >= this.job.options.touchMs && this.dirty.size > 0) {
      await this.job.touch(this.scope, this.dirty);
      this.dirty.clear();
      this.lastTouch = now;
    }
    cp.untouched = [...this.dirty];
    await this.job.save(this.op, this.ctl, cp);
    this.lastFlush = now;
  }
}
