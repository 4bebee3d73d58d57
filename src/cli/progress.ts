/**
 * A progress bar on stderr, shown only when stderr is a terminal (so piped or logged runs
 * stay clean), for commands that work through a list of items.
 */
import { SingleBar } from 'cli-progress';

export interface Progress {
  tick(failed: boolean): void;
  stop(): void;
}

export function progressBar(total: number, label: string, enabled = true): Progress {
  if (!enabled || !process.stderr.isTTY || total === 0) return { tick() {}, stop() {} };
  const bar = new SingleBar({
    format: `${label} [{bar}] {value}/{total} | {failed} failed | {eta_formatted} left`,
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 20,
  });
  let failed = 0;
  bar.start(total, 0, { failed });
  return {
    tick(f) {
      if (f) failed++;
      bar.increment(1, { failed });
    },
    stop() {
      bar.stop();
    },
  };
}

/** Progress of counts kept elsewhere (a server-side operation that the caller polls). */
export interface CountProgress {
  /**
   * `total` is undefined until known. `elapsedSeconds`: how long the work behind `done` took
   * (e.g. by the server's clock); without it the rate is measured from the first update.
   */
  update(done: number, total: number | undefined, failed: number, elapsedSeconds?: number): void;
  /** Ends the bar; without a terminal, writes the last state as a final line. */
  stop(): void;
}

/**
 * On a terminal, a bar with rate and ETA; otherwise (logs, CI) a plain line when the count
 * moved, at most every `everyMs`, and the last state at stop() unless already printed.
 */
export function countProgress(label: string, unit: string, enabled = true, everyMs = 5000): CountProgress {
  if (!enabled) return { update() {}, stop() {} };
  let first: { t: number; done: number } | undefined;
  let last = { done: 0, total: undefined as number | undefined, failed: 0, elapsed: undefined as number | undefined };
  const figures = () => {
    const seconds = last.elapsed ?? (first ? (Date.now() - first.t) / 1000 : 0);
    const rate = seconds > 0 ? (last.done - (last.elapsed === undefined ? (first?.done ?? 0) : 0)) / seconds : 0;
    const left = last.total !== undefined && rate > 0 ? Math.max(0, (last.total - last.done) / rate) : undefined;
    return { rate: rate.toFixed(1), eta: left === undefined ? '?' : formatSeconds(left) };
  };
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {value}/{totalText} ${unit} | {failed} failed | {rate} ${unit}/s | ETA {etaText}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    });
    bar.start(1, 0, { totalText: '?', failed: 0, rate: '0.0', etaText: '?' });
    return {
      update(done, total, failed, elapsed) {
        first ??= { t: Date.now(), done };
        last = { done, total, failed, elapsed };
        const f = figures();
        bar.setTotal(Math.max(total ?? 0, done, 1));
        bar.update(done, { totalText: total ?? '?', failed, rate: f.rate, etaText: f.eta });
      },
      stop: () => bar.stop(),
    };
  }
  let printedAt = 0;
  let printed = -1;
  const line = (final: boolean) => {
    const f = figures();
    const eta = final || f.eta === '?' || last.done === last.total ? '' : `, about ${f.eta} left`;
    process.stderr.write(`${label}: ${last.done}/${last.total ?? '?'} ${unit}, ${last.failed} failed, ${f.rate} ${unit}/s${eta}\n`);
    printedAt = Date.now();
    printed = last.done;
  };
  return {
    update(done, total, failed, elapsed) {
      first ??= { t: Date.now(), done };
      last = { done, total, failed, elapsed };
      if (done !== printed && Date.now() - printedAt >= everyMs) line(false);
    },
    stop: () => {
      if (printed !== last.done) line(true);
    },
  };
}

function formatSeconds(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
