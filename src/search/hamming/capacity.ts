/**
 * How the growable typed arrays of the index grow (codes' ids, the id map, rows and
 * re-rank columns): by half while small, by 1/8 from 64k entries, so growing one entry at
 * a time copies O(1) amortised and a large index leaves little unused.
 */
export function grownCapacity(current: number, min: number, fill = false): number {
  // A fill at once (`fill`: min entries at once, as many as held or more) keeps filledCapacity's room.
  return Math.max(min, Math.ceil(current * (current < 65536 ? 1.5 : 1.125)), 64, fill ? filledCapacity(min) : 0);
}

/** Capacity for a fill at once of n entries: 1/128 more, so the writes after it grow the
 *  array through ColumnsAhead instead of all at once (as trimmed row columns keep). */
export function filledCapacity(n: number): number {
  return n + Math.ceil(n / 128);
}

/** A scratch typed array of at least the length asked, grown by doubling; what it held is
 *  not kept when it grows. */
export class Scratch<T extends Uint32Array | Float64Array> {
  private array: T;

  constructor(private readonly make: (length: number) => T) {
    this.array = make(1024);
  }

  atLeast(n: number): T {
    if (this.array.length < n) this.array = this.make(Math.max(n, 2 * this.array.length));
    return this.array;
  }
}

type Column =
  Int8Array<ArrayBuffer> | Uint8Array<ArrayBuffer> | Uint16Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | Int32Array<ArrayBuffer>;

/** How far into its capacity a column is when its next arrays are made (ColumnsAhead). */
const AHEAD_FROM = 0.98;
/** Columns smaller than this grow at once: their fresh memory costs microseconds. */
const AHEAD_MIN = 65_536;
const PAGE_BYTES = 4096;

/** Writes a zero in each 4 KB page of bytes [from, to) of `a`, from `from` on: those pages
 *  are faulted in now rather than at the first real write (about 3 ms a MB here). */
export function touchPages(a: { [i: number]: number; readonly BYTES_PER_ELEMENT: number }, from: number, to: number): void {
  for (let at = from; at < to; at += PAGE_BYTES) a[Math.floor(at / a.BYTES_PER_ELEMENT)] = 0;
}

/**
 * The next arrays of growable columns that grow together (grownCapacity), made before they
 * are needed and touched (faulted in) a slice at a time as the columns fill, so that the
 * growth copies into memory already in place. Fresh memory costs about 3 ms a MB on its
 * first write on the 2-core VM: at once, a 1 M-region set's row columns took a write to
 * 20–37 ms (docs/search.md, "Coarse lists").
 */
export class ColumnsAhead<A extends readonly Column[]> {
  private next?: { cap: number; arrays: A; size: number; touched: number; from: number };

  constructor(private readonly make: (cap: number) => A) {}

  /** Bytes touched so far: what the columns' owner counts as held. */
  get bytes(): number {
    return this.next?.touched ?? 0;
  }

  /** The columns hold `used` of `cap` entries: from AHEAD_FROM of the way on (or from where
   *  they are, past it after a trim, while 1/256 of cap is left), the arrays of the next
   *  capacity are made, and touched in step, all of them by the time used is cap. */
  step(used: number, cap: number): void {
    if (cap < AHEAD_MIN || used < Math.floor(cap * AHEAD_FROM)) return;
    const nextCap = grownCapacity(cap, cap + 1);
    if (this.next?.cap !== nextCap) {
      // Filled to the brim at once (a bulk fill): no writes left to spread the touching over.
      if (cap - used < cap / 256) return;
      const arrays = this.make(nextCap);
      this.next = { cap: nextCap, arrays, size: arrays.reduce((s, a) => s + a.byteLength, 0), touched: 0, from: used - 1 };
    }
    const next = this.next;
    const goal = Math.min(next.size, Math.ceil((next.size * (used - next.from)) / Math.max(1, cap - next.from)));
    // The arrays one after another as one run of bytes; a zero written a page.
    let base = 0;
    for (const a of next.arrays) {
      const end = base + a.byteLength;
      touchPages(a, Math.max(next.touched, base) - base, Math.min(goal, end) - base);
      base = end;
    }
    next.touched = Math.max(next.touched, goal);
  }

  /** The arrays made for capacity `cap`, if those are the ones made; forgets them either way. */
  take(cap: number): A | undefined {
    const next = this.next;
    this.next = undefined;
    return next?.cap === cap ? next.arrays : undefined;
  }

  /** The columns' arrays for capacity `cap`: those made ahead when they are for it, else new. */
  arraysFor(cap: number): A {
    return this.take(cap) ?? this.make(cap);
  }
}
