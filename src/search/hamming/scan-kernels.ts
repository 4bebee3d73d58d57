/**
 * Storage plus threshold-scan kernel behind LinearScanIndex. Two engines with one
 * contract, run through the same tests: a pure JS SWAR popcount and a WebAssembly module
 * using i64.popcnt (hamming-kernel.wat). The kernel owns the code storage because the
 * WASM kernel can only read codes that live in its own linear memory.
 */
import { popcount64 } from './popcount';
import { HAMMING_KERNEL_WASM_BASE64 } from './wasm-kernel-bytes';
import { ensureMemory, PAGE, wasmInstance, type WasmMemory } from '../wasm-module';

export type KernelName = 'js' | 'wasm';
export const KERNELS: readonly KernelName[] = ['js', 'wasm'];

/** Codes per scan call; `out` holds this many (index, distance) pairs so it cannot overflow. */
export const SCAN_CHUNK = 16384;

export interface ScanKernel {
  readonly name: KernelName;
  /** Code words (32 bits each, wpc per code). Re-read after reserve: it may be replaced. */
  readonly words: Int32Array;
  /** Pairs written by scan: out[2j] = index relative to start, out[2j+1] = distance. */
  readonly out: Int32Array;
  /** Bytes of code storage held (for WASM, the whole linear memory). */
  readonly memoryBytes: number;
  /** Ensures room for `codes` codes, keeping existing words: growing geometrically, or with
   *  `exact` to `codes` and no more (a batch of known size, which then leaves no unused tail). */
  reserve(codes: number, exact?: boolean): void;
  setQuery(q: Int32Array): void;
  /**
   * Starts a search for the k nearest. With tighten, the kernel lowers its threshold itself
   * as codes are emitted (exact only when every emitted code counts toward k, i.e. without
   * a filter); see hamming-kernel.wat. The JS kernel ignores it (the caller's threshold).
   */
  begin(k: number, tighten: boolean): void;
  /** Scans codes [start, start+n), n <= SCAN_CHUNK, writing those with distance <= thr
   *  (thr as it stands when each code is tested, see begin). */
  scan(start: number, n: number, thr: number): number;
  /** The threshold after the last scan (with tighten, possibly below the one passed). */
  threshold(): number;
}

export function makeKernel(name: KernelName, wpc: number): ScanKernel {
  return name === 'wasm' ? new WasmKernel(wpc) : new JsKernel(wpc);
}

class JsKernel implements ScanKernel {
  readonly name = 'js';
  words: Int32Array = new Int32Array(0);
  readonly out = new Int32Array(2 * SCAN_CHUNK);
  private q: Int32Array = new Int32Array(0);
  private thr = 0;

  constructor(private readonly wpc: number) {}

  get memoryBytes(): number {
    return this.words.byteLength + this.out.byteLength;
  }

  reserve(codes: number, exact = false): void {
    if (codes * this.wpc <= this.words.length) return;
    const next = new Int32Array((exact ? codes : Math.max(codes, 2 * (this.words.length / this.wpc), 64)) * this.wpc);
    next.set(this.words);
    this.words = next;
  }

  setQuery(q: Int32Array): void {
    this.q = q;
  }

  begin(): void {}

  threshold(): number {
    return this.thr;
  }

  scan(start: number, n: number, thr: number): number {
    this.thr = thr;
    return this.wpc === 2
      ? scan64(this.words, this.out, this.q, start, n, thr)
      : scanWide(this.words, this.out, this.q, this.wpc, start, n, thr);
  }
}

// Bound once at load: bundlers such as esbuild (tsx) turn `import { popcount64 }` into a
// getter call per use, which V8 would not inline in the hot loop (measured 5x slower).
const pc64 = popcount64;

// Free functions rather than methods: V8 optimizes these loops far better when the typed
// arrays and query words arrive as arguments/locals than when read through `this`.
function scan64(words: Int32Array, out: Int32Array, q: Int32Array, start: number, n: number, thr: number): number {
  const q0 = q[0];
  const q1 = q[1];
  let cnt = 0;
  for (let i = 0, at = start * 2; i < n; i++, at += 2) {
    const d = pc64(words[at] ^ q0, words[at + 1] ^ q1);
    if (d <= thr) {
      out[cnt++] = i;
      out[cnt++] = d;
    }
  }
  return cnt >> 1;
}

function scanWide(words: Int32Array, out: Int32Array, q: Int32Array, wpc: number, start: number, n: number, thr: number): number {
  let cnt = 0;
  for (let i = 0, at = start * wpc; i < n; i++, at += wpc) {
    let d = 0;
    for (let w = 0; w < wpc; w += 2) d += pc64(words[at + w] ^ q[w], words[at + w + 1] ^ q[w + 1]);
    if (d <= thr) {
      out[cnt++] = i;
      out[cnt++] = d;
    }
  }
  return cnt >> 1;
}

type ScanFn = (codes: number, n: number, q: number, thr: number, out: number) => number;
export type ProbeFn = (
  offs: number,
  codes: number,
  key: number,
  len: number,
  tmask: number,
  s: number,
  q: number,
  thr: number,
  out: number,
  cap: number,
  resume: number,
  ranges: number,
) => number;

// Linear memory layout (hamming-kernel.wat): query at 0 (<= 32 bytes), probe counters at
// 32, the scan's distance histogram at 64, out pairs at OUT_AT, codes (or a MIH table)
// from CODES_AT.
export const STATS_AT = 32;
export const OUT_AT = 2048;
/** Where probeW keeps a batch of bucket ranges (2048 pairs of i32, see the .wat). */
export const RANGES_AT = OUT_AT + 8 * SCAN_CHUNK;
export const CODES_AT = Math.ceil((RANGES_AT + 8 * 2048) / PAGE) * PAGE;
/** A fresh instance of the Hamming kernel module (its own linear memory). */
export function kernelInstance(): { memory: WasmMemory; exports: Record<string, unknown> } {
  return wasmInstance(HAMMING_KERNEL_WASM_BASE64);
}

class WasmKernel implements ScanKernel {
  readonly name = 'wasm';
  words: Int32Array = new Int32Array(0);
  out: Int32Array = new Int32Array(0);
  private readonly memory: WasmMemory;
  private readonly fn: ScanFn;
  private readonly beginFn: (k: number, tighten: number) => void;
  private readonly thrFn: () => number;
  private readonly bytesPerCode: number;

  constructor(private readonly wpc: number) {
    // One instance (own memory) per index, so indexes never share or alias code storage.
    const inst = kernelInstance();
    this.memory = inst.memory;
    this.fn = inst.exports[`scan${wpc / 2}`] as ScanFn;
    this.beginFn = inst.exports.begin as (k: number, tighten: number) => void;
    this.thrFn = inst.exports.thr as () => number;
    this.bytesPerCode = wpc * 4;
    ensureMemory(this.memory, CODES_AT);
    this.refreshViews(0);
  }

  begin(k: number, tighten: boolean): void {
    this.beginFn(k, tighten ? 1 : 0);
  }

  threshold(): number {
    return this.thrFn();
  }

  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  reserve(codes: number, exact = false): void {
    const needed = CODES_AT + codes * this.bytesPerCode;
    const have = this.memory.buffer.byteLength;
    if (needed > have) {
      // Grow geometrically, by 1/8: memory.grow copies nothing (the memory's address space
      // is reserved) but detaches every view, and a larger factor would only leave more unused.
      const geometric = Math.min(Math.ceil(have * 1.125), 4 * 1024 * 1024 * 1024 - PAGE);
      const target = exact ? needed : Math.max(needed, geometric);
      this.memory.grow(Math.ceil((target - have) / PAGE));
    }
    if (this.words.buffer !== this.memory.buffer || this.words.length < codes * this.wpc) this.refreshViews(codes);
  }

  setQuery(q: Int32Array): void {
    new Int32Array(this.memory.buffer, 0, q.length).set(q);
  }

  scan(start: number, n: number, thr: number): number {
    return this.fn(CODES_AT + start * this.bytesPerCode, n, 0, thr, OUT_AT);
  }

  private refreshViews(codes: number): void {
    const buf = this.memory.buffer;
    const room = Math.floor((buf.byteLength - CODES_AT) / 4);
    this.words = new Int32Array(buf, CODES_AT, Math.max(room - (room % this.wpc), codes * this.wpc));
    this.out = new Int32Array(buf, OUT_AT, 2 * SCAN_CHUNK);
  }
}
