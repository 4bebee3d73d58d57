/**
 * Bounded max-heap keeping the k best (distance, id) pairs. Each pair is packed into one
 * float64 key, distance * 2^32 + id (exact: distance <= 256 keeps keys below 2^41), so the
 * (distance, id) order is a single number comparison and ties break by id for free.
 */
import type { HammingHit } from './hamming-index';
import { Scratch } from './capacity';

const ID_SPAN = 4294967296;

/** The id a key packs. A subtraction, not `key % ID_SPAN`: a float64 remainder is a call to
 *  fmod in V8, and thousands of hits a search made it a tenth of a 30-region query. */
function keyId(key: number): number {
  return key - Math.floor(key / ID_SPAN) * ID_SPAN;
}

/** The (distance, id) a key packs. */
function unpack(key: number): HammingHit {
  return { id: keyId(key), distance: Math.floor(key / ID_SPAN) };
}

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
    return keys.map(unpack);
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

/**
 * The k best (distance, id) pairs of a scan, for scans that hand back many codes at or
 * under the threshold (Hamming distances tie in hundreds at a large set's k-th distance,
 * and each tie is a candidate while ids break ties): hits are appended unsorted with a
 * histogram of their distances, the threshold drops as soon as k are at or under a lower
 * distance (as the WASM kernel's own does), and the k best are chosen once, at the end.
 * An append is a few typed-array writes where a heap push was a sift; one collector is
 * reused across searches (begin).
 */
export class ScanHits {
  private distances = new Uint16Array(1024);
  private ids = new Uint32Array(1024);
  private n = 0;
  private readonly keys = new Scratch((n) => new Float64Array(n));
  private readonly idsOut = new Scratch((n) => new Uint32Array(n));
  private readonly hist = new Int32Array(257);
  /** Hits at or under thr. */
  private le = 0;
  private thr = 0;
  private k = 0;

  /** Starts a search for the k nearest at or under `thr` (the code length: all of them). */
  begin(k: number, thr: number): void {
    this.k = k;
    this.thr = thr;
    this.n = 0;
    this.le = 0;
    this.hist.fill(0);
  }

  /** Whether k hits are held (at or under the threshold). */
  get full(): boolean {
    return this.le >= this.k;
  }

  /** The largest distance that can still enter the k best. */
  get threshold(): number {
    return this.thr;
  }

  /** Offers a hit; it is kept if its distance is at or under the threshold. */
  push(distance: number, id: number): void {
    if (distance > this.thr) return;
    if (this.n === this.ids.length) this.grow();
    this.distances[this.n] = distance;
    this.ids[this.n++] = id;
    this.hist[distance]++;
    this.le++;
    while (this.thr > 0 && this.le - this.hist[this.thr] >= this.k) this.le -= this.hist[this.thr--];
  }

  /** The k best hits offered since begin, sorted by (distance, id). */
  sorted(): HammingHit[] {
    return Array.from(this.select(), unpack);
  }

  /** The ids of sorted(), with no hit objects: valid until the next call. */
  sortedIds(): Uint32Array {
    const keys = this.select();
    const ids = this.idsOut.atLeast(keys.length);
    for (let i = 0; i < keys.length; i++) ids[i] = keyId(keys[i]);
    return ids.subarray(0, keys.length);
  }

  /** The keys of the k best, sorted: the hits at or under the threshold packed and sorted,
   *  cut at k (at the threshold, the smaller ids win as far as room is left). A view of
   *  scratch, valid until the next call. */
  private select(): Float64Array {
    const { thr, n, distances, ids } = this;
    const keys = this.keys.atLeast(n);
    let held = 0;
    for (let i = 0; i < n; i++) if (distances[i] <= thr) keys[held++] = distances[i] * ID_SPAN + ids[i];
    // A typed array and its native sort: a comparator sort of the thousands of ties a
    // clustered set can have at the threshold took 2.6 ms of a 30-region search.
    return keys.subarray(0, held).sort().subarray(0, Math.min(this.k, held));
  }

  private grow(): void {
    const distances = new Uint16Array(2 * this.ids.length);
    distances.set(this.distances);
    this.distances = distances;
    const ids = new Uint32Array(2 * this.ids.length);
    ids.set(this.ids);
    this.ids = ids;
  }
}
