/**
 * Hamming k-NN over coarse lists (an inverted file, FAISS's IndexBinaryIVF with float
 * centroids): each code is filed in one of `lists` lists by the nearest k-means centroid
 * of a short float vector of its region (the leading PCA coordinates of its re-rank
 * data), and a search that gives its query's vector (`near`) scans only the `probe` lists
 * whose centroids are nearest to it. That is approximate: a neighbour filed in a list not
 * probed is missed (the share measured by bench:scale, docs/search.md "Coarse lists").
 * Without `near` every list is scanned and the answer is exact, so the HammingIndex
 * contract holds (test/search/hamming/contract.ts runs on this engine too).
 *
 * The codes of a list are contiguous in one kernel memory, so a probed list is one scan
 * call; each list has room to grow, a full list moves to the end with an eighth more room
 * than it needs, and the holes left are closed up once they are a quarter of the memory,
 * into a memory of the size needed (O(1) amortised a write).
 */
import {
  type CodeBits,
  type HammingIndex,
  type HammingSearchOptions,
  checkBits,
  checkK,
  checkBatch,
  checkQuery,
} from './hamming/hamming-index';
import { IdMap } from './hamming/id-table';
import { ColumnsAhead, filledCapacity, grownCapacity, touchPages } from './hamming/capacity';
import { bytesToWords } from './hamming/popcount';
import { makeKernel, type ScanKernel } from './hamming/scan-kernels';
import { ScanHitsEngine, scanSlots } from './hamming/linear-scan';
import type { SeededRandom } from './hasher/seeded-random';
import { SimdProjection } from './compact-embedding';
import { dot } from '../core/vectors';

/** Writes id's coarse vector (`dims` floats) into out. */
export type CoarseVectorOf = (id: number, out: Float32Array) => void;

/** Room a list gets when first filled or moved: its size and this share more, at least
 *  MIN_ROOM (the 1/8 by which the index's other large arrays grow, hamming/capacity.ts). */
const SLACK = 0.125;
const MIN_ROOM = 16;
/** Share of the slots laid out that the holes left by moved lists may reach before every
 *  list is laid out again (O(n); about every n / 32 writes, as a list of s codes moves after
 *  s / 8 writes and leaves 9s / 8 slots of hole: 9 a write). */
const CLOSE_UP_AT = 0.25;
/**
 * From this share of holes the memory for the next close-up is made ready a little at each
 * list moved (Spare): fresh memory costs most of a close-up, every page faulted in on its
 * first write (about 3 ms a MB on the 2-core VM: 60 ms of a 1 M-region close-up, against
 * 5 ms of copying), so it is paid in slices by the writes before it instead of at once.
 */
const SPARE_FROM = 0.2;

/** The kernel and id array the next close-up lays the lists out into, and how far they
 *  have been touched (faulted in). */
interface Spare {
  kernel: ScanKernel;
  ids: Uint32Array<ArrayBuffer>;
  /** Slots whose memory has been touched. */
  ready: number;
  /** Slots made ready per slot of hole a moved list leaves. */
  perHole: number;
}

export class CoarseListIndex extends ScanHitsEngine implements HammingIndex {
  readonly bits: CodeBits;
  readonly lists: number;
  private readonly wpc: number;
  private kernel: ScanKernel;
  private readonly qWords: Int32Array;
  /** Per list: first slot, room and codes held. */
  private readonly start: Int32Array;
  private readonly room: Int32Array;
  private readonly held: Int32Array;
  /** Per slot: the id there. */
  private ids = new Uint32Array(0);
  /** The lists laid out (with room), in the order of their first slots: a slot's list is
   *  found by binary search here (a list column per slot would cost 2 bytes a region). */
  private readonly byStart: Int32Array;
  private laid = 0;
  private readonly slots = new IdMap();
  /** Slots laid out (the end of the last list's room), and of those, room of moved lists. */
  private end = 0;
  private holes = 0;
  private count = 0;
  private spare?: Spare;
  /** The ids array's next one, made and faulted in ahead of its growth. */
  private readonly idsAhead = new ColumnsAhead((cap) => [new Uint32Array(cap)] as const);
  private readonly centroidSearch: CentroidSearch;
  private readonly vectors: Float32Array[];

  /**
   * @param centroids `lists` × `dims` floats (trainCentroids)
   * @param vectorOf each added id's coarse vector (read when it is added)
   * @param probe lists scanned when a search gives `near`
   */
  constructor(
    bits: number,
    private readonly centroids: Float32Array,
    readonly dims: number,
    private readonly vectorOf: CoarseVectorOf,
    readonly probe: number,
  ) {
    super();
    this.bits = checkBits(bits);
    this.lists = centroids.length / dims;
    if (!Number.isInteger(this.lists) || this.lists < 1 || this.lists > 0xffff)
      throw new RangeError('centroids must hold 1 to 65535 lists');
    if (!Number.isInteger(probe) || probe < 1) throw new RangeError(`lists probed must be a positive integer, not ${probe}`);
    this.wpc = bits / 32;
    this.kernel = makeKernel('wasm', this.wpc);
    this.qWords = new Int32Array(this.wpc);
    this.start = new Int32Array(this.lists);
    this.room = new Int32Array(this.lists);
    this.held = new Int32Array(this.lists);
    this.byStart = new Int32Array(this.lists);
    this.centroidSearch = new CentroidSearch(centroids, dims);
    this.vectors = Array.from({ length: 4 }, () => new Float32Array(dims));
  }

  get size(): number {
    return this.count;
  }

  get memoryBytes(): number {
    // Of the spare, what has been touched: the rest is reserved, not yet in memory.
    const spare = this.spare ? this.spare.ready * (4 * this.wpc + 4) : 0;
    const ids = this.ids.byteLength + this.idsAhead.bytes;
    return this.kernel.memoryBytes + ids + spare + this.slots.memoryBytes + this.centroids.byteLength + 20 * this.lists;
  }

  /** The list a coarse vector is filed in: its nearest centroid. */
  listOf(v: Float32Array): number {
    this.centroidSearch.distances([v]);
    return this.centroidSearch.nearest(0);
  }

  /**
   * Adds codes, each filed in its nearest list, or in `lists[i]` when given (lists this
   * index filed them in before, as listOfId tells: a snapshot keeps them, so a restart need
   * not compare every region with every centroid again).
   */
  add(ids: Uint32Array | readonly number[], codes: Uint8Array, lists?: Uint16Array): void {
    if (lists && (lists.length !== ids.length || lists.some((l) => l >= this.lists)))
      throw new RangeError(`lists: one of 0..${this.lists - 1} for each of the ${ids.length} codes`);
    // Each code's list before any id is claimed: reading a coarse vector can throw.
    const listOfBatch = lists ?? this.listsOf(checkBatch(ids, codes, this.bits), new Uint16Array(ids.length));
    // Claims the ids (all or none, as the linear scan does); their slots are set below.
    const batch = this.claim(this.slots, ids, codes, this.bits, 0);
    // Every list's room first, so a large batch (an index filled at once) moves each list
    // at most once and leaves it with its share of slack.
    const incoming = new Int32Array(this.lists);
    for (const list of listOfBatch) incoming[list]++;
    // A batch at least the size of what is held lays every list out at once and exactly (an
    // index filled at once: the room of each list it moves, reserved together; one that
    // holds codes already: laid out again, as the holes are closed up), so no geometric tail
    // is left unused; smaller ones move the lists they fill, growing geometrically (O(1)
    // amortised).
    const need = (list: number) => this.held[list] + incoming[list];
    const atOnce = batch.length >= this.count;
    if (atOnce && this.count > 0) this.compact(incoming);
    else if (atOnce && this.holes === 0) {
      let room = 0;
      for (let list = 0; list < this.lists; list++) if (need(list) > this.room[list]) room += roomFor(need(list));
      this.reserve(this.end + room, true);
    }
    // The room is read again for each list: a move may have closed the holes up, which lays
    // every list out with room for its share of the batch.
    for (let list = 0; list < this.lists; list++) if (need(list) > this.room[list]) this.relocate(list, roomFor(need(list)), incoming);
    const bytes = this.bits / 8;
    const words = new Int32Array(this.wpc);
    batch.forEach((id, i) => {
      const list = listOfBatch[i];
      const slot = this.start[list] + this.held[list];
      bytesToWords(codes.subarray(i * bytes, (i + 1) * bytes), words);
      this.kernel.words.set(words, slot * this.wpc);
      this.ids[slot] = id;
      this.slots.set(id, slot);
      this.held[list]++;
      this.count++;
    });
    // Writes, not fills at once (those reserve exactly), grow the ids array by steps.
    if (!atOnce) this.idsAhead.step(this.end, this.ids.length);
  }

  /** Writes into out the list each id's vector is nearest to (what add files it in). */
  listsOf(ids: ArrayLike<number>, out: Uint16Array): Uint16Array {
    for (let at = 0; at < ids.length; at += 4) {
      const group = this.vectors.slice(0, Math.min(4, ids.length - at));
      group.forEach((v, q) => this.vectorOf(ids[at + q], v));
      this.centroidSearch.distances(group);
      group.forEach((_, q) => (out[at + q] = this.centroidSearch.nearest(q)));
    }
    return out;
  }

  /**
   * Lays the lists of an empty index out for `sizes[list]` codes each (and their slack), at
   * once and exactly: an index then filled in batches (a background fill, whose lists' sizes
   * listsOf told beforehand) moves no list and leaves no holes.
   */
  presize(sizes: Int32Array): void {
    if (this.end > 0) throw new Error('only an empty index is laid out beforehand');
    if (sizes.length !== this.lists) throw new RangeError(`sizes: one for each of the ${this.lists} lists`);
    this.compact(sizes); // as the sizes' codes were a batch about to be added
  }

  /** The list id is filed in (−1: not held). */
  listOfId(id: number): number {
    const slot = this.slots.get(id);
    return slot < 0 ? -1 : this.listAt(slot);
  }

  /** The centroids (lists × dims floats), to keep with the lists (see add). */
  get centroidMatrix(): Float32Array {
    return this.centroids;
  }

  remove(id: number): boolean {
    const slot = this.slots.get(id);
    if (slot < 0) return false;
    this.slots.delete(id);
    const list = this.listAt(slot);
    const last = this.start[list] + this.held[list] - 1;
    if (slot !== last) this.moveRange(last, slot, 1);
    this.held[list]--;
    this.count--;
    return true;
  }

  /** Scans the probed lists (all without `near`) for the k nearest into `hits`. */
  protected collect(query: Uint8Array, k: number, opts: HammingSearchOptions): boolean {
    checkQuery(query, this.bits);
    checkK(k);
    this.counters.searches++;
    if (k === 0 || this.count === 0) return false;
    const { kernel } = this;
    const filter = opts.filter;
    kernel.setQuery(bytesToWords(query, this.qWords));
    const want = Math.min(k, this.count);
    /** Offers one list's codes at or under thr; returns the threshold they left. */
    const scanList = (list: number, thr: number): number =>
      this.held[list] > 0 ? scanSlots(kernel, this.ids, this.start[list], this.held[list], thr, this.hits, filter, this.counters) : thr;
    if (!opts.near && !opts.nearDistances) {
      this.scanFromStart(want * 65_536, want, this.count, kernel, filter, (thr) => {
        for (let list = 0; list < this.lists; list++) thr = scanList(list, thr);
      });
      this.counters.bucketsProbed += this.lists;
      return true;
    }
    // Nearest lists first: the threshold falls soonest, and fewer codes are handed back.
    const distances = opts.nearDistances ?? this.centroidDistances(opts.near!);
    if (distances.length !== this.lists) throw new RangeError(`distances to ${distances.length} centroids, not ${this.lists}`);
    const scale = opts.probeScale ?? 1;
    if (!(scale > 0 && scale <= 1)) throw new RangeError(`probeScale must be in (0, 1], not ${scale}`);
    const probed = this.nearestLists(distances, Math.max(1, Math.round(this.probe * scale)));
    let codes = 0;
    for (const list of probed) codes += this.held[list];
    this.scanFromStart(want * 65_536 + probed.length, want, codes, kernel, filter, (thr) => {
      for (const list of probed) thr = scanList(list, thr);
    });
    let scanned = probed.length;
    // Fewer than k found in the probed lists (a filter that refuses most products, or small
    // lists): the next nearest lists are scanned until k are, so no answer is cut short.
    if (!this.hits.full && scanned < this.lists) {
      const chosen = new Set(probed);
      const rest = Array.from({ length: this.lists }, (_, c) => c).filter((c) => !chosen.has(c));
      rest.sort((a, b) => distances[a] - distances[b] || a - b);
      for (const list of rest) {
        if (this.hits.full) break;
        scanList(list, this.hits.threshold);
        scanned++;
      }
    }
    this.counters.bucketsProbed += scanned;
    return true;
  }

  /** Each coarse vector's distances to the centroids, for search's nearDistances: four
   *  vectors a pass of the SIMD kernel (30 regions 0.16 -> 0.07 ms at 256 lists of 32 dims). */
  distancesOf(vs: readonly Float32Array[]): Float32Array[] {
    const out: Float32Array[] = [];
    for (let at = 0; at < vs.length; at += 4) {
      const batch = vs.slice(at, at + 4).map((v) => this.coarseVector(v));
      for (const d of this.centroidSearch.distances(batch)) out.push(d.slice());
    }
    return out;
  }

  private coarseVector(v: Float32Array): Float32Array {
    if (v.length < this.dims) throw new RangeError(`a coarse vector has ${this.dims} values, not ${v.length}`);
    return v.subarray(0, this.dims);
  }

  /** v's squared distance to every centroid (less its own squared norm), valid until the next call. */
  private centroidDistances(v: Float32Array): Float32Array {
    return this.centroidSearch.distances([this.coarseVector(v)])[0];
  }

  /** The `probe` lists nearest by these distances, nearest first. */
  private nearestLists(d: Float32Array, probe: number): Int32Array {
    const n = Math.min(probe, this.lists);
    const chosen = new Int32Array(n);
    let held = 0;
    // Insertion into a short sorted list: probe is small beside the number of lists.
    for (let c = 0; c < this.lists; c++) {
      if (held === n && d[c] >= d[chosen[n - 1]]) continue;
      let i = held < n ? held++ : n - 1;
      while (i > 0 && d[chosen[i - 1]] > d[c]) {
        chosen[i] = chosen[i - 1];
        i--;
      }
      chosen[i] = c;
    }
    return chosen;
  }

  /** Gives a list `room` slots: moves it to the end, or first closes every hole once they
   *  would be CLOSE_UP_AT of the slots (after which the list may have the room already). */
  private relocate(list: number, room: number, incoming: Int32Array): void {
    if (this.holes > 0 && this.holes + this.room[list] > CLOSE_UP_AT * (this.end + room)) {
      this.compact(incoming);
      if (this.room[list] >= room) return;
    }
    const from = this.start[list];
    this.reserve(this.end + room);
    this.moveRange(from, this.end, this.held[list]);
    if (this.room[list] > 0) this.unlay(list);
    this.byStart[this.laid++] = list;
    const left = this.room[list];
    this.holes += left;
    this.start[list] = this.end;
    this.room[list] = room;
    this.end += room;
    this.prepareSpare(left);
  }

  /** Once the holes pass SPARE_FROM of the slots, makes the next close-up's memory ready in
   *  step with them: by the time they reach CLOSE_UP_AT, all of it (see Spare). */
  private prepareSpare(newHoles: number): void {
    if (!this.spare) {
      if (this.holes <= SPARE_FROM * this.end) return;
      // Sized for what the lists hold now and the growth before the close-up (small).
      let need = 0;
      for (let list = 0; list < this.lists; list++) need += roomFor(this.held[list]);
      need = Math.ceil(need * (1 + 1 / 32));
      const kernel = makeKernel('wasm', this.wpc);
      kernel.reserve(need, true);
      const toGo = Math.max(1, (CLOSE_UP_AT - SPARE_FROM) * this.end);
      this.spare = { kernel, ids: new Uint32Array(need), ready: 0, perHole: need / toGo };
    }
    const spare = this.spare;
    const total = spare.ids.length;
    const to = Math.min(total, Math.ceil(spare.ready + newHoles * spare.perHole));
    if (to <= spare.ready) return;
    // Each page of the range faulted in now, not in the close-up.
    const codeBytes = 4 * this.wpc;
    touchPages(spare.kernel.words, spare.ready * codeBytes, to * codeBytes);
    touchPages(spare.ids, spare.ready * 4, to * 4);
    spare.ready = to;
  }

  /** Lays every list out again from slot 0, with room for what it holds and what the
   *  batch being added brings it, and its share of slack: O(n), rare. */
  private compact(incoming: Int32Array): void {
    // Into a new kernel and id array of the exact size: a WebAssembly memory never shrinks,
    // so the old one is let go (the set's memory falls back to what it holds).
    const { words } = this.kernel;
    const { ids } = this;
    let at = 0;
    const starts = new Int32Array(this.lists);
    for (let list = 0; list < this.lists; list++) {
      starts[list] = at;
      at += roomFor(this.held[list] + incoming[list]);
      this.byStart[list] = list;
    }
    this.laid = this.lists;
    // The spare unless it is well over the size needed (made before many removes).
    const spare = this.spare && this.spare.ids.length <= at * (1 + 1 / 16) ? this.spare : undefined;
    this.spare = undefined;
    this.kernel = spare?.kernel ?? makeKernel('wasm', this.wpc);
    this.ids = spare?.ids ?? new Uint32Array(0);
    this.idsAhead.take(0); // made for the ids array let go
    this.reserve(at, true);
    const target = this.kernel.words;
    for (let list = 0; list < this.lists; list++) {
      const from = this.start[list];
      const to = starts[list];
      const n = this.held[list];
      target.set(words.subarray(from * this.wpc, (from + n) * this.wpc), to * this.wpc);
      this.ids.set(ids.subarray(from, from + n), to);
      this.slots.moveBatch(this.ids.subarray(to, to + n), to);
      this.start[list] = to;
      this.room[list] = (list + 1 < this.lists ? starts[list + 1] : at) - to;
    }
    this.end = at;
    this.holes = 0;
  }

  /** Moves the codes and ids of n slots from `from` to `to` (ranges that do not overlap),
   *  and where each of those ids is. */
  private moveRange(from: number, to: number, n: number): void {
    this.kernel.words.copyWithin(to * this.wpc, from * this.wpc, (from + n) * this.wpc);
    this.ids.copyWithin(to, from, from + n);
    this.slots.moveBatch(this.ids.subarray(to, to + n), to);
  }

  /** The list whose room holds `slot`: the last laid out from a slot at or before it. */
  private listAt(slot: number): number {
    const { byStart, start } = this;
    let lo = 0;
    let hi = this.laid - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (start[byStart[mid]] <= slot) lo = mid;
      else hi = mid - 1;
    }
    return byStart[lo];
  }

  /** Takes a list that is about to move out of byStart (O(lists), once a move). */
  private unlay(list: number): void {
    const i = this.byStart.subarray(0, this.laid).indexOf(list);
    this.byStart.copyWithin(i, i + 1, this.laid--);
  }

  private reserve(slots: number, exact = false): void {
    this.kernel.reserve(slots, exact);
    if (slots > this.ids.length) {
      // Laid out exactly (a fill at once, a close-up): the ids keep 1/128 of room, so the
      // list moves after it grow them through idsAhead, not all at once.
      const cap = exact ? filledCapacity(slots) : grownCapacity(this.ids.length, slots);
      const ids = this.idsAhead.arraysFor(cap)[0];
      ids.set(this.ids);
      this.ids = ids;
    }
  }
}

/** Room for a list of `need` codes: SLACK more, at least MIN_ROOM. */
function roomFor(need: number): number {
  return Math.max(MIN_ROOM, Math.ceil(need * (1 + SLACK)));
}

/**
 * `lists` centroids of n vectors (vectorAt(i, out) writes vector i, `dims` floats): k-means,
 * Lloyd's rounds from distinct vectors drawn at random, on at most `perList` vectors a list
 * drawn at random; a list left empty takes a random vector again. Deterministic for a
 * given rng.
 */
export function trainCentroids(...args: Parameters<typeof centroidTraining>): Float32Array {
  return runSteps(centroidTraining(...args));
}

/** Runs steps (a generator such as centroidTraining) to the end, at once; returns its value. */
export function runSteps<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Sample vectors a step of centroidTraining compares with every centroid. */
const TRAINING_STEP = 8192;

/**
 * trainCentroids a step at a time (the same centroids), for training in the background: the
 * sample is read in the first step, then each step compares TRAINING_STEP sample vectors
 * with the centroids (at 4,096 lists a whole round of the 262,144-vector sample takes
 * seconds).
 */
export function* centroidTraining(
  n: number,
  vectorAt: (i: number, out: Float32Array) => void,
  dims: number,
  lists: number,
  rng: SeededRandom,
  rounds = 10,
  perList = 64,
): Generator<void, Float32Array> {
  if (n < 1) throw new RangeError('no vectors to train coarse lists on');
  const sampleSize = Math.min(n, lists * perList);
  const sample = new Float32Array(sampleSize * dims);
  // A partial Fisher–Yates shuffle of the vector numbers: drawn without repeats.
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i; // (Int32Array.from with a map callback: 0.1 s at 1 M)
  for (let i = 0; i < sampleSize; i++) {
    const j = i + rng.int(n - i);
    [order[i], order[j]] = [order[j], order[i]];
    vectorAt(order[i], sample.subarray(i * dims, (i + 1) * dims));
  }
  const centroids = new Float32Array(lists * dims);
  for (let c = 0; c < lists; c++) centroids.set(sample.subarray((c % sampleSize) * dims, ((c % sampleSize) + 1) * dims), c * dims);
  const sums = new Float64Array(lists * dims);
  const sizes = new Int32Array(lists);
  for (let round = 0; round < rounds; round++) {
    const search = new CentroidSearch(centroids, dims);
    sums.fill(0);
    sizes.fill(0);
    yield;
    for (let at = 0; at < sampleSize; at += 4) {
      if (at > 0 && at % TRAINING_STEP === 0) yield;
      const group = Array.from({ length: Math.min(4, sampleSize - at) }, (_, q) => sample.subarray((at + q) * dims, (at + q + 1) * dims));
      search.distances(group);
      group.forEach((v, q) => {
        const best = search.nearest(q);
        sizes[best]++;
        for (let j = 0; j < dims; j++) sums[best * dims + j] += v[j];
      });
    }
    for (let c = 0; c < lists; c++) {
      if (sizes[c] === 0) {
        const i = rng.int(sampleSize);
        centroids.set(sample.subarray(i * dims, (i + 1) * dims), c * dims);
      } else for (let j = 0; j < dims; j++) centroids[c * dims + j] = sums[c * dims + j] / sizes[c];
    }
  }
  return centroids;
}

/**
 * The nearest of fixed centroids to up to four vectors at a time: their dot products with
 * every centroid in the SIMD projection kernel (the centroids as its matrix, four vectors a
 * pass; filing a region among 256 centroids 8-10 µs in JS, 5 µs so), in JS when the
 * vectors' length is not a multiple of 4.
 */
class CentroidSearch {
  private readonly lists: number;
  private readonly norms: Float32Array;
  private readonly simd?: SimdProjection;
  private readonly dots: Float32Array[];

  constructor(
    private readonly centroids: Float32Array,
    private readonly dims: number,
  ) {
    this.lists = centroids.length / dims;
    this.norms = Float32Array.from({ length: this.lists }, (_, c) => dot(this.centroid(c), this.centroid(c)));
    if (dims % 4 === 0) this.simd = new SimdProjection(centroids, dims, this.lists);
    this.dots = Array.from({ length: 4 }, () => new Float32Array(this.lists));
  }

  /** For each vector q, its squared distance to every centroid less its own squared norm
   *  (the same for all centroids): the arrays returned, valid until the next call. */
  distances(vs: readonly Float32Array[]): Float32Array[] {
    const { norms, lists } = this;
    const out = this.dots.slice(0, vs.length);
    if (this.simd) this.simd.project(vs, out);
    else vs.forEach((v, q) => out[q].forEach((_, c, d) => (d[c] = dot(v, this.centroid(c)))));
    for (const d of out) for (let c = 0; c < lists; c++) d[c] = norms[c] - 2 * d[c];
    return out;
  }

  private centroid(c: number): Float32Array {
    return this.centroids.subarray(c * this.dims, (c + 1) * this.dims);
  }

  /** The nearest centroid to vector q of the last distances call. */
  nearest(q: number): number {
    const d = this.dots[q];
    let best = 0;
    for (let c = 1; c < this.lists; c++) if (d[c] < d[best]) best = c;
    return best;
  }
}
