/**
 * Exact k-NN by Multi-Index Hashing (Norouzi, Punjani, Fleet, "Fast Search in Hamming
 * Space with Multi-Index Hashing", CVPR 2012). The code is cut into m substrings with one
 * hash table each; the query probes every table at substring radius s = 0, 1, 2, ...
 * m is chosen from n and bits at every rebuild (chooseM: m ~ bits / log2(n), substrings
 * up to 32 bits) unless fixed by MihOptions.m.
 *
 * Stopping rule (exactness): after radius s-1 in all tables and radius s in tables 0..j,
 * a code not yet seen differs by >= s+1 bits in each of substrings 0..j and >= s bits in
 * each of the other m-1-j, so its distance is >= m*s + j + 1. Every code within
 * m*s + j has therefore been checked, and once k results are held whose worst distance is
 * <= m*s + j, nothing unseen can beat them (ties at that distance were seen too, so the
 * id tie-break is exact). After a full round s this is the paper's m*(s+1) - 1.
 *
 * Layout: each table is a WebAssembly instance holding its dense bucket offsets (CSR) and
 * a copy of the codes in table order, so a bucket is a contiguous run that the probe
 * kernel (hamming-kernel.wat, probeW) verifies in place: no random access to a separate
 * code array, no per-candidate JS. Only codes within the current k-th distance come back
 * to JS, where a generation-stamped Uint32Array drops the ones another table found first.
 * Slots are ordered by the first substring at every rebuild, so table 0's order is the
 * slot order and it keeps no slot array. Memory: m copies of the codes plus 4 bytes per
 * code per table after the first, plus 4 * 2^tableBits per table (see mih-tables.ts).
 *
 * Updates: tables are static over slots [0, built); newer slots form a tail that is
 * scanned linearly and folded in by a rebuild once it exceeds `pendingFraction` of the
 * built part (geometric, so rebuilds cost O(1) amortized per added code). remove() leaves
 * a tombstone; tombstones are compacted away by a rebuild once they outnumber live codes.
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
  checkBits,
  checkK,
  checkQuery,
  EngineBase,
} from './hamming-index';
import { invalidArgument } from '../../core/errors';
import { IdTable } from './id-table';
import { type Substring, binomial, buildTable, chooseM, splitCode, substringValue, tableBits } from './mih-tables';
import { bytesToWords, distanceAt, popcount64 } from './popcount';
import {
  CODES_AT,
  type KernelName,
  OUT_AT,
  type ProbeFn,
  RANGES_AT,
  SCAN_CHUNK,
  STATS_AT,
  type ScanKernel,
  kernelInstance,
  makeKernel,
} from './scan-kernels';
import { TopK } from './top-k';
import { ensureMemory } from '../wasm-module';

export interface MihOptions {
  /** Number of substrings (hash tables). Default: chooseM(n, bits) at every rebuild. */
  m?: number;
  /** Rebuild when the unindexed tail exceeds this fraction of the indexed codes. Default 1/8. */
  pendingFraction?: number;
  /**
   * Finish with a kernel scan once probing would cost more than this many times a scan of
   * every indexed code. Cost is counted in scanned codes: a bucket BUCKET_COST (a random
   * memory access), a fetched entry ENTRY_COST; the next radius is estimated from the mean
   * bucket size. Far neighbours (e.g. uniform random codes) make MIH probe nearly every
   * bucket. Default 1/2. Infinity disables.
   */
  scanFallback?: number;
  /** Kernel of the scan fallback, as in LinearScanIndex. Default 'wasm'. Probing always
   *  runs in WebAssembly. */
  kernel?: KernelName;
}

/** Cost of looking up one bucket, in codes of the sequential scan (a cache miss on the
 *  offsets and one on the bucket's codes, ~100-200 ns, against ~0.3-0.5 ns per scanned
 *  64-bit code). */
export const BUCKET_COST = 256;
/** Cost of verifying one fetched entry (contiguous within its bucket), in scanned codes. */
export const ENTRY_COST = 4;

// Bound once: bundlers (esbuild/tsx) turn imported calls into getter calls V8 won't inline.
const pc64 = popcount64;
const distance = distanceAt;

/** One substring's table: a kernel instance holding offsets and codes in table order. */
interface Table {
  sub: Substring;
  /** (1 << tableBits) - 1, as an int32 for the kernel. */
  tmask: number;
  probe: ProbeFn;
  /** Entry index -> slot; undefined for table 0, whose order is the slot order. */
  slots?: Uint32Array;
  /** Byte address of the codes in the instance's memory (offsets sit at CODES_AT). */
  codesAt: number;
  /** Views on the instance's memory: the query words, the counters and `out`. */
  query: Int32Array;
  stats: Int32Array;
  out: Int32Array;
  bytes: number;
}

export class MultiIndexHashing extends EngineBase implements HammingIndex {
  readonly bits: CodeBits;
  private readonly fixedM?: number;
  private subs: Substring[];
  private readonly wpc: number;
  private readonly pendingFraction: number;
  private readonly scanFallback: number;
  /** Owns the code words (kernel.words) in slot order: the tail, the fallback scan. */
  private readonly kernel: ScanKernel;
  private ids = new Uint32Array(0);
  private dead = new Uint8Array(0);
  /** Per-slot stamp of the search that last saw it (generation counter). */
  private seen = new Uint32Array(0);
  private epoch = 0;
  private count = 0;
  private deadCount = 0;
  private built = 0;
  private tables: Table[] = [];
  private readonly slots = new IdTable();
  private readonly qWords: Int32Array;

  constructor(bits: number, opts: MihOptions = {}) {
    super();
    this.bits = checkBits(bits);
    if (opts.m !== undefined) this.fixedM = opts.m;
    this.subs = splitCode(bits, opts.m ?? chooseM(0, bits));
    this.wpc = bits / 32;
    this.pendingFraction = opts.pendingFraction ?? 1 / 8;
    if (!(this.pendingFraction >= 0 && this.pendingFraction < Infinity)) {
      throw invalidArgument(`pendingFraction must be a finite number >= 0, got ${this.pendingFraction}.`);
    }
    this.kernel = makeKernel(opts.kernel ?? 'wasm', this.wpc);
    this.scanFallback = opts.scanFallback ?? 1 / 2;
    if (!(this.scanFallback > 0)) throw invalidArgument(`scanFallback must be > 0, got ${this.scanFallback}.`);
    this.qWords = new Int32Array(this.wpc);
  }

  /** Number of substrings (tables) in use: fixed, or chosen from n at the last rebuild. */
  get m(): number {
    return this.subs.length;
  }

  get substrings(): readonly Substring[] {
    return this.subs;
  }

  get size(): number {
    return this.count - this.deadCount;
  }

  /** Bytes held by the hash tables alone (offsets, code copies, slot arrays). */
  get tableBytes(): number {
    let bytes = 0;
    for (const t of this.tables) bytes += t.bytes + (t.slots?.byteLength ?? 0);
    return bytes;
  }

  get memoryBytes(): number {
    const bytes = this.kernel.memoryBytes + this.ids.byteLength + this.dead.byteLength + this.seen.byteLength;
    return bytes + this.tableBytes + this.slots.memoryBytes;
  }

  add(ids: Uint32Array | readonly number[], codes: Uint8Array): void {
    const batch = this.claim(this.slots, ids, codes, this.bits, this.count);
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
    if (++this.epoch === 0x100000000) {
      this.seen.fill(0);
      this.epoch = 1;
    }
    for (let slot = this.built; slot < this.count; slot++) this.consider(slot, q, top, opts.filter);
    const { m, tables } = this;
    if (this.built === 0) return top.sorted();
    let maxLen = 0;
    for (const t of tables) {
      maxLen = Math.max(maxLen, t.sub.len);
      t.query.set(q);
    }
    const budget = this.scanFallback * this.built;
    let work = 0;
    for (let s = 0; s <= maxLen; s++) {
      for (let j = 0; j < m; j++) {
        const { len } = tables[j].sub;
        if (s > len) continue;
        const next = binomial(len, s) * (BUCKET_COST + (ENTRY_COST * this.built) / 2 ** tableBits(len));
        if (work + next > budget) return this.scanRest(q, top, opts.filter);
        work += this.probe(tables[j], substringValue(q, 0, tables[j].sub), s, top, opts.filter);
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

  /**
   * Probes every bucket of table t whose key differs from `key` in exactly s bits (in the
   * kernel, which verifies each entry and returns those within the current k-th distance);
   * returns its cost (BUCKET_COST per bucket, ENTRY_COST per entry).
   */
  private probe(t: Table, key: number, s: number, top: TopK, filter?: (id: number) => boolean): number {
    const { seen, dead, ids, epoch, counters } = this;
    const { out, stats } = t;
    const slots = t.slots;
    let work = 0;
    for (let resume = 0; ; resume = 1) {
      const thr = top.full ? top.worstDistance : this.bits;
      const hits = t.probe(CODES_AT, t.codesAt, key | 0, t.sub.len, t.tmask, s, 0, thr, OUT_AT, SCAN_CHUNK, resume, RANGES_AT);
      const entries = stats[0];
      const buckets = stats[1];
      counters.bucketsProbed += buckets;
      counters.candidatesChecked += entries;
      counters.codesScanned += entries;
      work += buckets * BUCKET_COST + entries * ENTRY_COST;
      for (let i = 0; i < hits; i++) {
        const e = out[2 * i];
        const slot = slots === undefined ? e : slots[e];
        if (seen[slot] === epoch) continue;
        seen[slot] = epoch;
        if (dead[slot] === 1) continue;
        const d = out[2 * i + 1];
        const id = ids[slot];
        if (!top.accepts(d, id) || (filter !== undefined && !filter(id))) continue;
        top.push(d, id);
      }
      if (stats[2] === 0) return work;
    }
  }

  /** Computes the distance of tail `slot` once per search and offers it to `top`. */
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

  /** Drops tombstones, chooses m for the new size, then rebuilds every table over all
   *  slots (the tail becomes empty). */
  private rebuild(): void {
    if (this.deadCount > 0) this.compact();
    if (this.fixedM === undefined) this.subs = splitCode(this.bits, chooseM(this.count, this.bits));
    this.tables = [];
    this.cluster();
    this.tables = this.subs.map((sub, j) => this.makeTable(sub, j === 0));
    this.built = this.count;
  }

  /** Builds one table's kernel instance: offsets at CODES_AT, then the codes in table
   *  order (table 0: slot order, which cluster() made its order). */
  private makeTable(sub: Substring, first: boolean): Table {
    const { wpc, count } = this;
    const words = this.kernel.words;
    const csr = buildTable(words, wpc, count, sub);
    const codesAt = CODES_AT + Math.ceil(csr.offsets.byteLength / 64) * 64;
    const inst = kernelInstance();
    ensureMemory(inst.memory, codesAt + count * wpc * 4);
    const buf = inst.memory.buffer;
    new Uint32Array(buf, CODES_AT, csr.offsets.length).set(csr.offsets);
    const codes = new Int32Array(buf, codesAt, count * wpc);
    if (first) codes.set(words.subarray(0, count * wpc));
    else {
      const { slots } = csr;
      for (let e = 0; e < count; e++) {
        const from = slots[e] * wpc;
        for (let w = 0; w < wpc; w++) codes[e * wpc + w] = words[from + w];
      }
    }
    const tb = tableBits(sub.len);
    return {
      sub,
      tmask: tb === 32 ? -1 : (1 << tb) - 1,
      probe: inst.exports[`probe${wpc / 2}`] as ProbeFn,
      ...(first ? {} : { slots: csr.slots }),
      codesAt,
      query: new Int32Array(buf, 0, wpc),
      stats: new Int32Array(buf, STATS_AT, 3),
      out: new Int32Array(buf, OUT_AT, 2 * SCAN_CHUNK),
      bytes: buf.byteLength,
    };
  }

  /**
   * Reorders slots by the first substring so that near-duplicate codes (which mostly share
   * their substrings) sit next to each other, and table 0 can use the slot order itself.
   */
  private cluster(): void {
    const { wpc, count } = this;
    const words = this.kernel.words;
    const order = buildTable(words, wpc, count, this.subs[0]).slots;
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
    const seen = new Uint32Array(capacity);
    seen.set(this.seen);
    this.seen = seen;
  }
}
