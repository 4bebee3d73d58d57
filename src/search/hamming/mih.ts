/**
 * Exact k-NN by Multi-Index Hashing (Norouzi, Punjani, Fleet, "Fast Search in Hamming
 * Space with Multi-Index Hashing", CVPR 2012). The code is cut into m substrings with one
 * hash table each; the query probes every table at substring radius s = 0, 1, 2, ...
 *
 * Stopping rule (exactness): after radius s-1 in all tables and radius s in tables 0..j,
 * a code not yet seen differs by >= s+1 bits in each of substrings 0..j and >= s bits in
 * each of the other m-1-j, so its distance is >= m*s + j + 1. Every code within
 * m*s + j has therefore been checked, and once k results are held whose worst distance is
 * <= m*s + j, nothing unseen can beat them (ties at that distance were seen too, so the
 * id tie-break is exact). After a full round s this is the paper's m*(s+1) - 1.
 *
 * Updates: tables are static CSR arrays over slots [0, built); newer slots form a tail that
 * is scanned linearly and folded in by a rebuild once it exceeds `pendingFraction` of the
 * built part (geometric, so rebuilds cost O(1) amortized per added code). remove() leaves
 * a tombstone; tombstones are compacted away by a rebuild once they outnumber live codes.
 * A rebuild also reorders slots by the first substring, for memory locality (see cluster).
 *
 * Far neighbours: when probing would cost more than a scan (MihOptions.scanFallback), the
 * search finishes with the same scan kernel LinearScanIndex uses, so it stays exact and
 * is never much slower than a scan.
 */
import {
  type CodeBits,
  type HammingHit,
  type HammingIndex,
  type HammingSearchOptions,
  type HammingStats,
  checkBatch,
  checkBits,
  checkK,
  checkQuery,
  duplicateId,
  emptyStats,
} from './hamming-index';
import { invalidArgument } from '../../core/errors';
import { IdTable } from './id-table';
import { type CsrTable, type Substring, buildTable, masksFor, splitCode, substringValue } from './mih-tables';
import { bytesToWords, distanceAt, popcount64 } from './popcount';
import { type KernelName, type ScanKernel, SCAN_CHUNK, makeKernel } from './scan-kernels';
import { TopK } from './top-k';

export interface MihOptions {
  /** Number of substrings (hash tables). Default bits / 16, so each table is dense 16-bit. */
  m?: number;
  /** Rebuild when the unindexed tail exceeds this fraction of the indexed codes. Default 1/8. */
  pendingFraction?: number;
  /**
   * Finish with a kernel scan once probing would cost more than this many times the number
   * of indexed codes (work = buckets + bucket entries; the next round is estimated from the
   * mean bucket size). Far neighbours (e.g. uniform random codes) make MIH probe nearly
   * every bucket; a probed entry is a random memory access, far dearer than a code in the
   * sequential WASM scan. Default 1/256 (on 1 M uniform 64-bit codes 1/32 gave 390 qps and
   * 1/256 1,390 against 1,940 for a scan; 10 M clustered never reached it). Infinity disables.
   */
  scanFallback?: number;
  /** Kernel of the scan fallback, as in LinearScanIndex. Default 'wasm'. */
  kernel?: KernelName;
}

// Bound once: bundlers (esbuild/tsx) turn imported calls into getter calls V8 won't inline.
const pc64 = popcount64;
const distance = distanceAt;

export class MultiIndexHashing implements HammingIndex {
  readonly bits: CodeBits;
  readonly m: number;
  readonly substrings: readonly Substring[];
  private readonly wpc: number;
  private readonly pendingFraction: number;
  private readonly scanFallback: number;
  /** Owns the code words (kernel.words), so the scan fallback can run the WASM kernel. */
  private readonly kernel: ScanKernel;
  private ids = new Uint32Array(0);
  private dead = new Uint8Array(0);
  /** Per-slot mark of the search that last saw it; 8 bits, so reset every 255 searches. */
  private seen = new Uint8Array(0);
  private epoch = 0;
  private count = 0;
  private deadCount = 0;
  private built = 0;
  private tables: CsrTable[] = [];
  private readonly slots = new IdTable();
  private readonly counters: HammingStats = emptyStats();
  private readonly qWords: Int32Array;

  constructor(bits: number, opts: MihOptions = {}) {
    this.bits = checkBits(bits);
    this.m = opts.m ?? bits / 16;
    this.substrings = splitCode(bits, this.m);
    this.wpc = bits / 32;
    this.pendingFraction = opts.pendingFraction ?? 1 / 8;
    if (!(this.pendingFraction >= 0 && this.pendingFraction < Infinity)) {
      throw invalidArgument(`pendingFraction must be a finite number >= 0, got ${this.pendingFraction}.`);
    }
    this.kernel = makeKernel(opts.kernel ?? 'wasm', this.wpc);
    this.scanFallback = opts.scanFallback ?? 1 / 256;
    if (!(this.scanFallback > 0)) throw invalidArgument(`scanFallback must be > 0, got ${this.scanFallback}.`);
    this.qWords = new Int32Array(this.wpc);
  }

  get size(): number {
    return this.count - this.deadCount;
  }

  get memoryBytes(): number {
    let bytes = this.kernel.memoryBytes + this.ids.byteLength + this.dead.byteLength + this.seen.byteLength;
    for (const t of this.tables) bytes += t.offsets.byteLength + t.slots.byteLength;
    return bytes + this.slots.memoryBytes;
  }

  /** Bytes held by the hash tables alone. */
  get tableBytes(): number {
    let bytes = 0;
    for (const t of this.tables) bytes += t.offsets.byteLength + t.slots.byteLength;
    return bytes;
  }

  get stats(): Readonly<HammingStats> {
    return this.counters;
  }

  resetStats(): void {
    Object.assign(this.counters, emptyStats());
  }

  add(ids: Uint32Array | readonly number[], codes: Uint8Array): void {
    const batch = checkBatch(ids, codes, this.bits);
    const dup = this.slots.insertBatch(batch, this.count);
    if (dup >= 0) throw duplicateId(dup);
    const total = this.count + batch.length;
    if (total > this.ids.length) this.grow(Math.max(total, 2 * this.ids.length, 64));
    this.ids.set(batch, this.count);
    bytesToWords(codes, this.kernel.words.subarray(this.count * this.wpc, total * this.wpc));
    this.count = total;
    if (this.count - this.built > this.pendingFraction * this.built) this.rebuild();
  }

  remove(id: number): boolean {
    const slot = this.slots.get(id);
    if (slot < 0) return false;
    this.slots.delete(id);
    this.dead[slot] = 1;
    this.deadCount++;
    if (this.deadCount > this.count - this.deadCount) this.rebuild();
    return true;
  }

  search(query: Uint8Array, k: number, opts: HammingSearchOptions = {}): HammingHit[] {
    checkQuery(query, this.bits);
    checkK(k);
    this.counters.searches++;
    if (k === 0 || this.size === 0) return [];
    const q = bytesToWords(query, this.qWords);
    const top = new TopK(Math.min(k, this.size));
    if (++this.epoch === 256) {
      this.seen.fill(0);
      this.epoch = 1;
    }
    for (let slot = this.built; slot < this.count; slot++) this.consider(slot, q, top, opts.filter);
    const { m, substrings } = this;
    let maxLen = 0;
    for (const sub of substrings) maxLen = Math.max(maxLen, sub.len);
    const keys = substrings.map((sub) => substringValue(q, 0, sub));
    const budget = this.scanFallback * this.built;
    let work = 0;
    for (let s = 0; s <= maxLen; s++) {
      for (let j = 0; j < m; j++) {
        const len = substrings[j].len;
        if (s > len) continue;
        const { byWeight } = masksFor(len);
        const buckets = byWeight[s + 1] - byWeight[s];
        if (work + buckets * (1 + this.built / (1 << len)) > budget) return this.scanRest(q, top, opts.filter);
        work += this.probe(j, keys[j], s, q, top, opts.filter);
        if (top.full && top.worstDistance <= m * s + j) return top.sorted();
      }
    }
    // Every bucket of every table was probed: all live codes have been seen.
    return top.sorted();
  }

  /** Exact completion with the scan kernel over every indexed slot; slots already offered
   *  by probing are skipped, so the filter still sees each id at most once. */
  private scanRest(q: Int32Array, top: TopK, filter?: (id: number) => boolean): HammingHit[] {
    const { kernel, seen, dead, ids, epoch } = this;
    kernel.setQuery(q);
    kernel.begin(top.k, false);
    let thr: number = top.full ? top.worstDistance : this.bits;
    for (let start = 0; start < this.built; start += SCAN_CHUNK) {
      const hits = kernel.scan(start, Math.min(SCAN_CHUNK, this.built - start), thr);
      const out = kernel.out;
      for (let j = 0; j < hits; j++) {
        const slot = start + out[2 * j];
        if (seen[slot] === epoch || dead[slot] === 1) continue;
        seen[slot] = epoch;
        const d = out[2 * j + 1];
        const id = ids[slot];
        if (!top.accepts(d, id) || (filter !== undefined && !filter(id))) continue;
        top.push(d, id);
      }
      if (top.full) thr = top.worstDistance;
    }
    this.counters.codesScanned += this.built;
    return top.sorted();
  }

  /** Probes every bucket of table j whose value differs from `key` in exactly s bits;
   *  returns the work done (buckets + entries). */
  private probe(j: number, key: number, s: number, q: Int32Array, top: TopK, filter?: (id: number) => boolean): number {
    const { masks, byWeight } = masksFor(this.substrings[j].len);
    const { offsets, slots } = this.tables[j];
    let entries = 0;
    for (let i = byWeight[s], end = byWeight[s + 1]; i < end; i++) {
      const v = key ^ masks[i];
      const from = offsets[v];
      const to = offsets[v + 1];
      entries += to - from;
      for (let e = from; e < to; e++) this.consider(slots[e], q, top, filter);
    }
    const buckets = byWeight[s + 1] - byWeight[s];
    this.counters.bucketsProbed += buckets;
    this.counters.candidatesChecked += entries;
    return buckets + entries;
  }

  /** Computes the distance of `slot` once per search and offers it to `top`. */
  private consider(slot: number, q: Int32Array, top: TopK, filter?: (id: number) => boolean): void {
    if (this.seen[slot] === this.epoch) return;
    this.seen[slot] = this.epoch;
    if (this.dead[slot] === 1) return;
    const words = this.kernel.words;
    const at = slot * this.wpc;
    const d = this.wpc === 2 ? pc64(words[at] ^ q[0], words[at + 1] ^ q[1]) : distance(words, at, q, this.wpc);
    this.counters.codesScanned++;
    const id = this.ids[slot];
    if (!top.accepts(d, id) || (filter !== undefined && !filter(id))) return;
    top.push(d, id);
  }

  /** Drops tombstones, then rebuilds every table over all slots (the tail becomes empty). */
  private rebuild(): void {
    if (this.deadCount > 0) this.compact();
    this.cluster();
    this.tables = this.substrings.map((sub) => buildTable(this.kernel.words, this.wpc, this.count, sub));
    this.built = this.count;
  }

  /**
   * Reorders slots by the first substring so that near-duplicate codes (which mostly share
   * their substrings) sit next to each other: a query's candidates then come from a few
   * contiguous runs instead of random cache misses all over 10 M codes (measured ~2x).
   */
  private cluster(): void {
    const { wpc, count } = this;
    const words = this.kernel.words;
    const order = buildTable(words, wpc, count, this.substrings[0]).slots;
    const old = words.slice(0, count * wpc);
    const ids = new Uint32Array(this.ids.length);
    for (let to = 0; to < count; to++) {
      const from = order[to];
      for (let w = 0; w < wpc; w++) words[to * wpc + w] = old[from * wpc + w];
      ids[to] = this.ids[from];
      this.slots.set(ids[to], to);
    }
    this.ids = ids;
  }

  private compact(): void {
    const { ids, dead, wpc } = this;
    const words = this.kernel.words;
    let to = 0;
    for (let from = 0; from < this.count; from++) {
      if (dead[from] === 1) continue;
      if (to !== from) {
        words.copyWithin(to * wpc, from * wpc, (from + 1) * wpc);
        ids[to] = ids[from];
        this.slots.set(ids[to], to);
      }
      to++;
    }
    dead.fill(0);
    this.count = to;
    this.deadCount = 0;
  }

  private grow(capacity: number): void {
    this.kernel.reserve(capacity);
    const ids = new Uint32Array(capacity);
    ids.set(this.ids);
    this.ids = ids;
    const dead = new Uint8Array(capacity);
    dead.set(this.dead);
    this.dead = dead;
    const seen = new Uint8Array(capacity);
    seen.set(this.seen);
    this.seen = seen;
  }
}
