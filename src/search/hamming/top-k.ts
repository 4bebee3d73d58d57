/**
 * Bounded max-heap keeping the k best (distance, id) pairs. Each pair is packed into one
 * float64 key, distance * 2^32 + id (exact: distance <= 256 keeps keys below 2^41), so the
 * (distance, id) order is a single number comparison and ties break by id for free.
 */
import type { HammingHit } from './hamming-index';

const ID_SPAN = 4294967296;

export class TopK {
  private readonly heap: Float64Array;
  private n = 0;

  constructor(readonly k: number) {
    this.heap = new Float64Array(Math.max(1, k));
  }

  get full(): boolean {
    return this.n === this.k;
  }

  get count(): number {
    return this.n;
  }

  /** Distance of the current worst kept entry (only meaningful when full). */
  get worstDistance(): number {
    return Math.floor(this.heap[0] / ID_SPAN);
  }

  /** Whether (distance, id) would be kept; lets callers skip a filter call when not. */
  accepts(distance: number, id: number): boolean {
    return this.n < this.k || distance * ID_SPAN + id < this.heap[0];
  }

  /** Offers (distance, id); keeps it if among the k best so far. */
  push(distance: number, id: number): void {
    const key = distance * ID_SPAN + id;
    const h = this.heap;
    if (this.n < this.k) {
      let i = this.n++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (h[parent] >= key) break;
        h[i] = h[parent];
        i = parent;
      }
      h[i] = key;
      return;
    }
    if (this.k === 0 || key >= h[0]) return;
    this.siftDown(key);
  }

  /** The kept entries sorted by (distance, id). */
  sorted(): HammingHit[] {
    const keys = Array.from(this.heap.subarray(0, this.n)).sort((a, b) => a - b);
    return keys.map((key) => ({ id: key % ID_SPAN, distance: Math.floor(key / ID_SPAN) }));
  }

  private siftDown(key: number): void {
    const h = this.heap;
    const n = this.n;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && h[c + 1] > h[c]) c++;
      if (h[c] <= key) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = key;
  }
}
