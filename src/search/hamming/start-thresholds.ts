/** Scans of fewer codes start at the code length: they hand back little early, and a miss
 *  would scan them twice for nothing. */
export const START_FROM = 16_384;

/** Nor do searches for fewer: what a scan hands back before its threshold settles grows
 *  with k, and at k = 10 (bench:index, 1 M codes) the misses cost about what the start
 *  saved (256 bits: 1-3.5 % of the scans done twice). PRODUCT_SEARCH asks 50 and 200. */
export const START_FROM_K = 32;

/**
 * Where a scan's threshold starts. A scan that starts at the code length hands back every
 * code until k are held, then more while the threshold falls; at a large set those early
 * codes are most of what it hands back, and each costs a mispredicted branch in the kernel
 * and a push in JS (a 30-region query at 1 M regions: about 17 k codes handed back, of which
 * about 2.6 k at or under the k-th distances). Starting at the largest k-th distance of the
 * last searches of the same shape (k, and the lists probed), plus a margin, is exact
 * whenever k codes are at or under that start, since every code at or under it is handed
 * back; when fewer are, the caller scans again from the code length (a miss). At 1 M
 * regions, a 30-region query on the default path, with and without starts in turn
 * (in-process, 12-06, margin 0): p50 0.33–0.48 ms lower in each of 8 runs (4.34 → 3.97 ms
 * in one), 2 % of searches missing.
 */
export class StartThresholds {
  private readonly recent = new Map<number, { kth: Uint16Array; seen: number }>();
  /** Searches that started below the code length, and those of them scanned again (misses). */
  started = 0;
  missed = 0;

  /**
   * @param window how many recent k-th distances of a shape the start is the largest of: a
   *   query whose k-th distance exceeds all of them is scanned twice, about 1 in window + 1
   *   when queries come in no particular order.
   * @param shapes how many shapes are remembered (callers pass their own k): past it, all
   *   are forgotten.
   * @param margin added to that largest: fewer misses for a few more codes handed back
   *   (bench:index, k = 10, 1 M codes: 3-4.5 % of scans missed at 0, 1-3.5 % at 1, 0.1-2.6 %
   *   at 2; the 30-region query's p50 within 0.1 ms of each other at 0 and 2).
   */
  constructor(
    private readonly window = 16,
    private readonly shapes = 64,
    private readonly margin = 1,
  ) {}

  /** The threshold to start a search of this shape at, or undefined (too few seen yet). */
  start(shape: number): number | undefined {
    const r = this.recent.get(shape);
    if (!r || r.seen < this.window) return undefined;
    let max = 0;
    for (let i = 0; i < this.window; i++) max = Math.max(max, r.kth[i]);
    this.started++;
    return max + this.margin;
  }

  /** The k-th distance an exact search of this shape ended at. */
  record(shape: number, kth: number): void {
    let r = this.recent.get(shape);
    if (!r) {
      if (this.recent.size >= this.shapes) this.recent.clear();
      r = { kth: new Uint16Array(this.window), seen: 0 };
      this.recent.set(shape, r);
    }
    r.kth[r.seen++ % this.window] = kth;
  }
}
