/**
 * Watching an ImportProductSets operation to its end, and the summary of how it went.
 * Counts come from Metapixel's GetOperationProgress (`GET /v1/{name}:progress`), because
 * Google's BatchOperationMetadata only says PROCESSING until the end; a server without that
 * extension is still watched, through GetOperation, without counts.
 */
import { protos } from '@google-cloud/vision';
import { countProgress } from './progress';
import { EXIT, explainError, statusName, type Connection, type ServerOptions } from './connection';

/** metapixel.v1.OperationProgress in proto3 JSON (int64 as strings, zeros left out). */
export interface ProgressMsg {
  state?: string;
  done?: boolean;
  totalLines?: string;
  totalKnown?: boolean;
  processedLines?: string;
  failedLines?: string;
  createTime?: string;
  updateTime?: string;
}

export interface Watched {
  outcome: 'done' | 'detached';
  last?: ProgressMsg;
}

/**
 * Polls until the operation is done. The first Ctrl-C sends CancelOperation and keeps
 * watching (the operation ends CANCELLED); a second one stops watching ('detached').
 */
export async function watchOperation(
  conn: Connection,
  name: string,
  showProgress: boolean,
  opts: ServerOptions,
  pollMs = 500,
): Promise<Watched> {
  const bar = countProgress('import', 'lines', showProgress);
  let cancelling = false;
  let detached = false;
  let wake = () => {};
  const onSigint = () => {
    if (cancelling) {
      detached = true;
      wake();
      return;
    }
    cancelling = true;
    process.stderr.write(`\nmetapixel import: cancelling ${name} (Ctrl-C again to stop waiting)\n`);
    // Google's Vision client has an HTTP rule for GetOperation only, so its REST transport
    // cannot send CancelOperation: the standard REST path is called directly.
    conn
      .rest('POST', `/v1/${name}:cancel`, {})
      .catch((e: unknown) => process.stderr.write(`metapixel import: could not cancel: ${explainError(e, opts)}\n`));
  };
  process.on('SIGINT', onSigint);
  let offered = true;
  let last: ProgressMsg | undefined;
  try {
    for (;;) {
      let done: boolean;
      if (offered) last = await progressOf(conn, name);
      if (last && offered) {
        // The server's clock for the rate: work done before watching began counts too.
        const elapsed = (Date.parse(last.updateTime ?? '') - Date.parse(last.createTime ?? '')) / 1000;
        bar.update(
          Number(last.processedLines ?? 0),
          last.totalKnown ? Number(last.totalLines) : undefined,
          Number(last.failedLines ?? 0),
          elapsed > 0 ? elapsed : undefined,
        );
        done = !!last.done;
      } else {
        offered = false;
        done = (await conn.productSearch.checkImportProductSetsProgress(name)).done ?? false;
      }
      if (done) return { outcome: 'done', last };
      if (detached) return { outcome: 'detached', last };
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, pollMs);
      });
      if (detached) return { outcome: 'detached', last };
    }
  } finally {
    process.off('SIGINT', onSigint);
    bar.stop();
  }
}

/** undefined when the server does not offer the extension (404 on the route, 501). */
async function progressOf(conn: Connection, name: string): Promise<ProgressMsg | undefined> {
  try {
    return await conn.rest<ProgressMsg>('GET', `/v1/${name}:progress`);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 404 || code === 501) return undefined;
    throw e;
  }
}

interface Timestamp {
  seconds?: number | string | { toString(): string } | null;
  nanos?: number | null;
}

/** The final operation as Google's client decodes it (LROperation of ImportProductSets). */
export interface FinalImport {
  name?: string | null;
  result?: { statuses?: { code?: number | null; message?: string | null }[] | null; referenceImages?: unknown[] | null } | null;
  /** BatchOperationMetadata (typed loosely by the client). */
  metadata?: unknown;
  latestResponse: { error?: { code?: number | null; message?: string | null } | null; metadata?: { value?: Uint8Array | null } | null };
}

export interface ReportContext {
  started: number;
  /** The local file of each line (folder imports). */
  files?: string[];
  json: boolean;
  showFailures: number;
  last?: ProgressMsg;
}

const BATCH_STATES = ['STATE_UNSPECIFIED', 'PROCESSING', 'SUCCESSFUL', 'FAILED', 'CANCELLED'];

/** Prints the summary (text or one JSON object) on stdout and returns the exit status. */
export function reportImport(op: FinalImport, ctx: ReportContext): number {
  const statuses = op.result?.statuses ?? [];
  const failures = statuses.flatMap((s, line) =>
    s.code
      ? [
          {
            line,
            ...(ctx.files?.[line] ? { file: ctx.files[line] } : {}),
            code: s.code,
            status: statusName(s.code),
            message: (s.message ?? '').replace(/^Line \d+: /, ''),
          },
        ]
      : [],
  );
  const error = op.latestResponse.error?.code
    ? {
        code: op.latestResponse.error.code,
        status: statusName(op.latestResponse.error.code),
        message: op.latestResponse.error.message ?? '',
      }
    : undefined;
  const meta = (op.metadata ?? decodeMetadata(op.latestResponse.metadata) ?? {}) as {
    state?: unknown;
    submitTime?: Timestamp | null;
    endTime?: Timestamp | null;
  };
  const rawState = meta.state;
  const state =
    typeof rawState === 'number'
      ? (BATCH_STATES[rawState] ?? String(rawState))
      : typeof rawState === 'string'
        ? rawState
        : error
          ? 'FAILED'
          : 'SUCCESSFUL';
  const serverSeconds = seconds(meta.endTime) - seconds(meta.submitTime);
  const images = op.result?.referenceImages?.length ?? 0;
  const elapsed = (Date.now() - ctx.started) / 1000;
  const lines = op.result ? statuses.length : Number(ctx.last?.totalLines ?? 0);
  const processed = op.result ? statuses.length : Number(ctx.last?.processedLines ?? 0);
  const failed = op.result ? failures.length : Number(ctx.last?.failedLines ?? 0);
  const rate = serverSeconds > 0 ? images / serverSeconds : 0;
  const exit = error ? (error.code === 1 ? EXIT.CANCELLED : EXIT.OPERATION_FAILED) : failed ? EXIT.SOME_FAILED : EXIT.OK;
  if (ctx.json) {
    const summary = {
      operation: op.name,
      state,
      lines,
      processedLines: processed,
      succeededLines: processed - failed,
      failedLines: failed,
      referenceImages: images,
      serverSeconds: round(serverSeconds),
      elapsedSeconds: round(elapsed),
      imagesPerSecond: round(rate),
      ...(error ? { error } : {}),
      failures,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return exit;
  }
  const out: string[] = [`Import ${state}: ${op.name}`];
  if (error) out.push(`  error: ${error.status}: ${error.message}`);
  out.push(
    `  lines: ${lines} total, ${processed - failed} imported, ${failed} failed${processed < lines ? `, ${lines - processed} not processed` : ''}`,
  );
  if (!error || images)
    out.push(
      `  time: ${images} reference images in ${serverSeconds.toFixed(1)} s on the server (${rate.toFixed(1)} images/s); ${elapsed.toFixed(1)} s in all`,
    );
  if (failures.length && ctx.showFailures > 0) {
    const shown = failures.slice(0, ctx.showFailures);
    out.push(`Failed lines (numbered from 0, as the response's statuses; ${shown.length} of ${failures.length}):`);
    for (const f of shown) out.push(`  line ${f.line}${'file' in f ? ` (${f.file})` : ''}: ${f.status}: ${f.message}`);
    if (failures.length > shown.length) out.push(`  … and ${failures.length - shown.length} more (--show-failures N, or --json for all)`);
  }
  process.stdout.write(out.join('\n') + '\n');
  return exit;
}

/** The client leaves the metadata undecoded when the operation ended in an error. */
function decodeMetadata(any: { value?: Uint8Array | null } | null | undefined): unknown {
  if (!any?.value) return undefined;
  try {
    return protos.google.cloud.vision.v1.BatchOperationMetadata.decode(any.value);
  } catch {
    return undefined;
  }
}

function seconds(t: Timestamp | null | undefined): number {
  if (!t) return 0;
  return Number(String(t.seconds ?? 0)) + (t.nanos ?? 0) / 1e9;
}

const round = (n: number) => Math.round(n * 100) / 100;
