/**
 * Exact k-NN by scanning every code (FAISS's IndexBinaryFlat): the oracle the other
 * indexes are tested against, and the fastest choice below a few million codes.
 *
 * Codes are kept dense: remove moves the last code into the hole, so a scan never meets
 * a dead slot and slot order is not id order (ties are broken by id in ScanHits, not by slot).
 */
import {
  type CodeBits,
  type HammingHit,
  type HammingIndex,
  type HammingSearchOptions,
  type HammingStats,
  checkBits,
  checkK,
  checkQuery,
  EngineBase,
} from './hamming-index';
import { IdMap } from './id-table';
import { ColumnsAhead, grownCapacity } from './capacity';
import { bytesToWords } from './popcount';
import { type KernelName, type ScanKernel, SCAN_CHUNK, makeKernel } from './scan-kernels';
import { ScanHits } from './top-k';
import { START_FROM, START_FROM_K, StartThresholds } from './start-thresholds';

export interface LinearScanOptions {
  /** 'wasm' (default: i64.popcnt) or 'js' (SWAR popcount, no WebAssembly needed). */
  kernel?: KernelName;
}

/**
 * An engine whose searches collect their hits in a ScanHits (the linear scan and the coarse
 * lists): search and searchIds differ only in how the k best are handed back.
 */
export abstract class ScanHitsEngine extends EngineBase {
  protected readonly hits = new ScanHits();
  /** Where unfiltered scans of at least START_FROM codes for at least START_FROM_K start their threshold. */
  readonly starts = new StartThresholds();
  abstract readonly bits: CodeBits;

  search(query: Uint8Array, k: number, opts: HammingSearchOptions = {}): HammingHit[] {
    return this.collect(query, k, opts) ? this.hits.sorted() : [];
  }

  override searchIds(query: Uint8Array, k: number, opts: HammingSearchOptions = {}): Uint32Array {
    return this.collect(query, k, opts) ? this.hits.sortedIds() : new Uint32Array(0);
  }

  /** Scans for the k nearest into `hits`; false when there is nothing to find. */
  protected abstract collect(query: Uint8Array, k: number, opts: HammingSearchOptions): boolean;

  /**
   * Scans for the `want` nearest: each pass begins `hits` and the kernel at a threshold,
   * then `scan(thr)` offers the codes. An unfiltered search for at least START_FROM_K over at
   * least START_FROM codes (and want) starts at a recent k-th distance of its shape (see
   * StartThresholds), and is scanned again from `bits` when fewer than `want` were at or
   * under that start; its k-th distance is kept for the next start. Returns whether `want`
   * are held.
   */
  protected scanFromStart(
    shape: number,
    want: number,
    codes: number,
    kernel: ScanKernel,
    filter: ((id: number) => boolean) | undefined,
    scan: (thr: number) => void,
  ): boolean {
    const pass = (thr: number) => {
      this.hits.begin(want, thr);
      // Without a filter every emitted code counts toward k, so the kernel can lower its own
      // threshold as it goes (as scan.c's loop does); with one, only `hits` may.
      kernel.begin(want, filter === undefined);
      scan(thr);
    };
    const starts = filter === undefined && want >= START_FROM_K && codes >= Math.max(START_FROM, want);
    const start = starts ? this.starts.start(shape) : undefined;
    if (start !== undefined && start < this.bits) {
      pass(start);
      if (!this.hits.full) this.starts.missed++;
    }
    if (start === undefined || start >= this.bits || !this.hits.full) pass(this.bits);
    if (starts && this.hits.full) this.starts.record(shape, this.hits.threshold);
    return this.hits.full;
  }
}

export class LinearScanIndex extends ScanHitsEngine implements HammingIndex {
  readonly bits: CodeBits;
  readonly kernelName: KernelName;
  private readonly wpc: number;
  private readonly kernel: ScanKernel;
  private ids = new Uint32Array(0);
  /** The ids array's next one, made and faulted in ahead of its growth. */
  private readonly idsAhead = new ColumnsAhead((cap) => [new Uint32Array(cap)] as const);
  private count = 0;
  private readonly slots = new IdMap();
  private readonly qWords: Int32Array;

  constructor(bits: number, opts: LinearScanOptions = {}) {
    super();
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
    return this.kernel.memoryBytes + this.ids.byteLength + this.idsAhead.bytes + this.slots.memoryBytes;
  }

  add(ids: Uint32Array | readonly number[], codes: Uint8Array): void {
    const batch = this.claim(this.slots, ids, codes, this.bits, this.count);
    const total = this.count + batch.length;
    this.kernel.reserve(total);
    if (total > this.ids.length) {
      const cap = grownCapacity(this.ids.length, total, batch.length >= this.count);
      const next = this.idsAhead.arraysFor(cap)[0];
      next.set(this.ids.subarray(0, this.count));
      this.ids = next;
    }
    this.ids.set(batch, this.count);
    this.idsAhead.step(total, this.ids.length);
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

  protected collect(query: Uint8Array, k: number, opts: HammingSearchOptions): boolean {
    checkQuery(query, this.bits);
    checkK(k);
    this.counters.searches++;
    if (k === 0 || this.count === 0) return false;
    const { kernel, ids, counters } = this;
    const filter = opts.filter;
    kernel.setQuery(bytesToWords(query, this.qWords));
    const want = Math.min(k, this.count);
    this.scanFromStart(want, want, this.count, kernel, filter, (thr) =>
      scanSlots(kernel, ids, 0, this.count, thr, this.hits, filter, counters),
    );
    return true;
  }
}

/** The ids of a scan call's codes (at most SCAN_CHUNK), scratch shared by every scan. */
const FOUND_IDS = new Uint32Array(SCAN_CHUNK);

/**
 * Offers the codes in slots [start, start + n) of a kernel (after setQuery and begin) to
 * `hits`, ids[slot] naming each, and returns the threshold the scan ended at (pass it to
 * the next range's scan: a linear scan has one range, coarse lists one per probed list).
 * A code is offered (and the filter asked) only while its distance is at or under the k-th
 * so far: until k hits are held every code qualifies.
 */
export function scanSlots(
  kernel: ScanKernel,
  ids: Uint32Array,
  start: number,
  n: number,
  thr: number,
  hits: ScanHits,
  filter: ((id: number) => boolean) | undefined,
  counters: HammingStats,
): number {
  for (let at = start, end = start + n; at < end; at += SCAN_CHUNK) {
    const found = kernel.scan(at, Math.min(SCAN_CHUNK, end - at), thr);
    counters.candidatesChecked += found;
    const out = kernel.out;
    // The ids first, in a loop of independent loads whose cache misses overlap (behind
    // push's work, one at a time, they overlapped less): about 0.1 ms of a 30-region query
    // at 1 M regions (in-process, 12-05).
    for (let j = 0; j < found; j++) FOUND_IDS[j] = ids[at + out[2 * j]];
    for (let j = 0; j < found; j++) {
      const d = out[2 * j + 1];
      if (d > hits.threshold) continue;
      const id = FOUND_IDS[j];
      if (filter === undefined || filter(id)) hits.push(d, id);
    }
    thr = Math.min(kernel.threshold(), hits.threshold);
  }
  counters.codesScanned += n;
  return thr;
}
