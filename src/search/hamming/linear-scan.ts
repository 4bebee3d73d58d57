/**
 * Exact k-NN by scanning every code (FAISS's IndexBinaryFlat): the oracle the other
 * indexes are tested against, and the fastest choice below a few million codes.
 *
 * Codes are kept dense: remove moves the last code into the hole, so a scan never meets
 * a dead slot and slot order is not id order (ties are broken by id in TopK, not by slot).
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
import { IdMap } from './id-table';
import { grownCapacity } from './capacity';
import { bytesToWords } from './popcount';
import { type KernelName, type ScanKernel, SCAN_CHUNK, makeKernel } from './scan-kernels';
import { TopK } from './top-k';

export interface LinearScanOptions {
  /** 'wasm' (default: i64.popcnt) or 'js' (SWAR popcount, no WebAssembly needed). */
  kernel?: KernelName;
}

export class LinearScanIndex implements HammingIndex {
  readonly bits: CodeBits;
  readonly kernelName: KernelName;
  private readonly wpc: number;
  private readonly kernel: ScanKernel;
  private ids = new Uint32Array(0);
  private count = 0;
  private readonly slots = new IdMap();
  private readonly counters: HammingStats = emptyStats();
  private readonly qWords: Int32Array;

  constructor(bits: number, opts: LinearScanOptions = {}) {
    this.bits = checkBits(bits);
    this.wpc = bits / 32;
    this.kernelName = opts.kernel ?? 'wasm';
    this.kernel = makeKernel(this.kernelName, this.wpc);
    this.qWords = new Int32Array(this.wpc);
  }

  get size(): number {
    return this.count;
  }

  get memoryBytes(): number {
    return this.kernel.memoryBytes + this.ids.byteLength + this.slots.memoryBytes;
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
    this.kernel.reserve(total);
    if (total > this.ids.length) {
      const next = new Uint32Array(grownCapacity(this.ids.length, total));
      next.set(this.ids.subarray(0, this.count));
      this.ids = next;
    }
    this.ids.set(batch, this.count);
    const at = this.count * this.wpc;
    bytesToWords(codes, this.kernel.words.subarray(at, at + batch.length * this.wpc));
    this.count = total;
  }

  remove(id: number): boolean {
    const slot = this.slots.get(id);
    if (slot < 0) return false;
    this.slots.delete(id);
    const last = this.count - 1;
    if (slot !== last) {
      const words = this.kernel.words;
      words.copyWithin(slot * this.wpc, last * this.wpc, (last + 1) * this.wpc);
      this.ids[slot] = this.ids[last];
      this.slots.set(this.ids[slot], slot);
    }
    this.count = last;
    return true;
  }

  search(query: Uint8Array, k: number, opts: HammingSearchOptions = {}): HammingHit[] {
    checkQuery(query, this.bits);
    checkK(k);
    this.counters.searches++;
    if (k === 0 || this.count === 0) return [];
    const { kernel, ids, counters } = this;
    const filter = opts.filter;
    kernel.setQuery(bytesToWords(query, this.qWords));
    const want = Math.min(k, this.count);
    const top = new TopK(want);
    // Without a filter every emitted code counts toward k, so the kernel can lower its own
    // threshold as it goes (as scan.c's loop does); with one, only `top` may. Until k hits
    // are held every code qualifies; afterwards only codes at or under the k-th distance
    // can still enter (at equal distance a smaller id wins, hence <=).
    kernel.begin(want, filter === undefined);
    let thr: number = this.bits;
    for (let start = 0; start < this.count; start += SCAN_CHUNK) {
      const n = Math.min(SCAN_CHUNK, this.count - start);
      const hits = kernel.scan(start, n, thr);
      counters.candidatesChecked += hits;
      const out = kernel.out;
      for (let j = 0; j < hits; j++) {
        const d = out[2 * j + 1];
        const id = ids[start + out[2 * j]];
        if (!top.accepts(d, id) || (filter !== undefined && !filter(id))) continue;
        top.push(d, id);
      }
      thr = kernel.threshold();
      if (top.full && top.worstDistance < thr) thr = top.worstDistance;
    }
    counters.codesScanned += this.count;
    return top.sorted();
  }
}
