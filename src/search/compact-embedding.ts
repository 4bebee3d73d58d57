/**
 * Re-rank data in 264 bytes a region instead of 7,168 (136 at 4 bits a coordinate, fewer
 * with fewer directions: CompactColumns, METAPIXEL_RERANK_BITS / _DIMS): the embedding's
 * projection onto the top 256 PCA directions (models/hashing/itq-256: its rows are that
 * basis), as int8 with one scale per region, plus three numbers: the embedding's dot
 * product with the PCA mean, the projection's norm and the norm of what the projection
 * leaves out. For unit vectors x, y, mean m, P the 256 leading directions and R the other
 * 1,536:
 *
 *   x·y = P(x−m)·P(y−m) + R(x−m)·R(y−m) + m·x + m·y − m·m
 *
 * Everything but the residual term is kept exactly (up to int8 rounding); the residual
 * term is estimated as |R(x−m)| |R(y−m)| times the cosine of the two projections (clamped
 * at 0): residuals of near-identical images point the same way, those of unrelated images
 * do not. So the score keeps the cosine's scale and a region matches itself at 1
 * (docs/search.md gives the measured error and its cost in recall). The query side is
 * projected in float, all of a query's regions at once: by onnxruntime when the codec has a
 * batch projection (prepareAllAsync, onnx-projection.ts: PRODUCT_SEARCH's default path),
 * else, and for a single region, by a WebAssembly SIMD kernel (projection-kernel.wat); the
 * JS loop is the reference both are tested against.
 */
import { createHash } from 'node:crypto';
import type { ItqParams } from './hasher/itq-params';
import { ColumnsAhead, grownCapacity } from './hamming/capacity';
import { PROJECTION_KERNEL_WASM_BASE64 } from './projection-kernel-bytes';
import { ensureMemory, wasmInstance, type WasmMemory } from './wasm-module';

/** One region's compact re-rank data. */
export interface CompactVector {
  /** round(P(x − m) / scale), each in [−127, 127]. */
  q: Int8Array;
  scale: number;
  /** m·x. */
  offset: number;
  /** |P(x − m)| and |R(x − m)|. */
  norm: number;
  residual: number;
}

export interface PreparedQuery {
  /** P(x − m) in float. */
  y: Float32Array;
  /** y as int16 (y ≈ y16 × y16Scale), what the re-rank multiplies the rows by (in JS and
   *  in SIMD alike): its rounding (2e-5 of the largest coordinate) is far below the rows'
   *  int8 rounding. */
  y16: Int16Array;
  y16Scale: number;
  /** m·x − m·m: the terms that do not depend on the region. */
  offset: number;
  norm: number;
  residual: number;
}

/** An embedding's projection P(x − m), with the two numbers prepare needs beside it. */
export interface Projected {
  /** At least the codec's dims leading coordinates. */
  y: Float32Array;
  /** |x − m|². */
  centredSquared: number;
  /** m·x. */
  meanDot: number;
}

/** Projects a batch of embeddings onto the same basis in one call of native code (onnx-projection.ts). */
export interface BatchProjection {
  /** Coordinates of each y. */
  readonly outputs: number;
  project(xs: readonly Float32Array[]): Promise<Projected[]>;
  close(): Promise<void>;
}

/** |y| and the norm of what y leaves out of a centred vector whose squared norm is centredSquared. */
function norms(y: Float32Array, centredSquared: number): { norm: number; residual: number } {
  let sq = 0;
  for (let j = 0; j < y.length; j++) sq += y[j] * y[j];
  return { norm: Math.sqrt(sq), residual: Math.sqrt(Math.max(0, centredSquared - sq)) };
}

/** Bits a re-rank coordinate takes in an index's columns (METAPIXEL_RERANK_BITS). */
export type RerankBits = 8 | 4;

/**
 * Re-rank data of many regions in typed-array columns, one row a region: the vector, then
 * its four numbers (scale, offset, norm, residual) as IEEE half floats (relative error
 * 5e-4, far below the int8 rounding's). The vector is int8 (`bits` 8), or 4 bits a
 * coordinate (`bits` 4, half the memory and memory traffic): the row's int8 vector
 * re-quantized to 16 levels, mid-rise, (2c − 15) × scale for nibble c, so no level is 0 and
 * every sign survives (codeOf); two coordinates a byte, the even one in the low nibble.
 * Rows are overwritten in place (an index reuses the rows of removed regions); the columns
 * grow geometrically, by 1/8 once large, so growth costs O(1) amortised and leaves little
 * unused; trim() drops the slack.
 *
 * Rows of a multiple of 16 bytes (int8 dims a multiple of 16, 4-bit ones of 32) move, once
 * they take SIMD_FROM_BYTES, into the linear memory of a projection-kernel instance, whose
 * `dots` and `dots4` re-rank a batch of rows in SIMD where they lie
 * (CompactEmbeddingCodec.similarities): six times the speed of the JS dot product on int8
 * rows in cache, and the loads of consecutive rows overlap. Smaller columns, and the
 * others, are a plain Int8Array re-ranked in JS: a memory is at least a 64 KB page, too
 * much for each of many small sets.
 */
export class CompactColumns {
  private rows: Int8Array;
  /** Per row: scale, offset, norm, residual as binary16. */
  scalars: Uint16Array;
  /** Bytes of a row's vector. */
  readonly rowBytes: number;
  /** The SIMD re-rank (undefined: rows in a plain array). */
  private kernel?: DotKernel;
  /** The scalars' next array, made and faulted in ahead of their growth (the rows, in the
   *  kernel's memory, grow in place). */
  private readonly scalarsAhead = new ColumnsAhead((cap) => [new Uint16Array(cap * 4)] as const);
  private readonly simdAllowed: boolean;

  constructor(
    readonly dims: number,
    capacity = 0,
    readonly bits: RerankBits = 8,
    opts: { simd?: boolean } = {},
  ) {
    if (bits === 4 && dims % 2) throw new RangeError('4-bit columns need an even number of dims');
    this.rowBytes = (dims * bits) / 8;
    this.simdAllowed = opts.simd !== false && this.rowBytes % 16 === 0 && dims <= DotKernel.MAX_DIMS;
    this.rows = new Int8Array(0);
    this.scalars = new Uint16Array(0);
    this.resize(capacity);
  }

  /** The row vectors (rowBytes a row). A view that a later set or trim may replace: read it anew. */
  get q(): Int8Array {
    return this.rows;
  }

  /** Whether similarities re-rank in SIMD (see the class comment). */
  get simd(): boolean {
    return this.kernel !== undefined;
  }

  get capacity(): number {
    return this.scalars.length / 4;
  }

  /** Bytes held (capacity, not rows in use). */
  get memoryBytes(): number {
    return (this.kernel?.bytes ?? this.rows.byteLength) + this.scalars.byteLength + this.scalarsAhead.bytes;
  }

  set(row: number, v: CompactVector): void {
    this.setRow(row, v.q, 0, toHalf(v.scale), toHalf(v.offset), toHalf(v.norm), toHalf(v.residual));
  }

  /**
   * Copies rows [from, to) of int8 columns of the same dims into these (4-bit columns
   * re-quantize them). A row copied gives the same bits as the row set from its vector:
   * 4-bit columns work from the half-float scale either way.
   */
  copyRows(source: CompactColumns, from: number, to: number): void {
    if (source.bits !== 8 || source.dims !== this.dims) throw new RangeError('rows are copied from int8 columns of the same dims');
    const s = source.scalars;
    for (let row = from; row < to; row++) {
      const at = row * 4;
      this.setRow(row, source.rows, row * this.dims, s[at], s[at + 1], s[at + 2], s[at + 3]);
    }
  }

  /** Sets a row from the int8 vector at q[qAt…] and its scalars as binary16. */
  private setRow(row: number, q: Int8Array, qAt: number, scale: number, offset: number, norm: number, residual: number): void {
    if (row >= this.capacity) this.resize(grownCapacity(this.capacity, row + 1));
    // A view only when copying from columns: set()'s vector is the row itself.
    if (this.bits === 8) this.rows.set(qAt === 0 && q.length === this.dims ? q : q.subarray(qAt, qAt + this.dims), row * this.dims);
    else scale = toHalf(packNibbles(q, qAt, this.dims, HALF[scale], this.rows, row * this.rowBytes));
    const at = row * 4;
    this.scalars[at] = scale;
    this.scalars[at + 1] = offset;
    this.scalars[at + 2] = norm;
    this.scalars[at + 3] = residual;
  }

  scale(row: number): number {
    return HALF[this.scalars[row * 4]];
  }

  offset(row: number): number {
    return HALF[this.scalars[row * 4 + 1]];
  }

  norm(row: number): number {
    return HALF[this.scalars[row * 4 + 2]];
  }

  residual(row: number): number {
    return HALF[this.scalars[row * 4 + 3]];
  }

  /** The `bits`-bit sign code of row's projection (bit j = q[j] > 0), as codeOf makes a query's. */
  codeOf(row: number, bits: number, out: Uint8Array = new Uint8Array(bits / 8)): Uint8Array {
    out.fill(0);
    const base = row * this.rowBytes;
    for (let j = 0; j < bits; j++) {
      const positive = this.bits === 8 ? this.rows[base + j] > 0 : (this.rows[base + (j >> 1)] >> ((j & 1) * 4)) & 8;
      if (positive) out[j >> 3] |= 1 << (j & 7);
    }
    return out;
  }

  /** The row's first out.length projection coordinates, dequantized (coarse lists file by them). */
  leading(row: number, out: Float32Array): Float32Array {
    const base = row * this.rowBytes;
    const scale = this.scale(row);
    for (let j = 0; j < out.length; j++) {
      out[j] = (this.bits === 8 ? this.rows[base + j] : 2 * ((this.rows[base + (j >> 1)] >> ((j & 1) * 4)) & 15) - 15) * scale;
    }
    return out;
  }

  /** `used` rows are in use (new rows are taken at the end; a freed row's reuse is not a
   *  fill level): lets the scalars make their next array ahead of their growth. */
  growing(used: number): void {
    this.scalarsAhead.step(used, this.capacity);
  }

  /** Keeps capacity for exactly `rows` rows (after a bulk load). */
  trim(rows: number): void {
    if (rows < this.capacity) this.resize(rows);
    this.scalarsAhead.take(0); // a trim ends the growth it was made for
  }

  /** A copy of the first `rows` rows, with capacity for exactly them (a snapshot's). */
  copy(rows: number): CompactColumns {
    const out = new CompactColumns(this.dims, rows, this.bits, { simd: this.simdAllowed });
    out.rows.set(this.rows.subarray(0, rows * this.rowBytes));
    out.scalars.set(this.scalars.subarray(0, rows * 4));
    return out;
  }

  /**
   * out[i] = the int32 dot product of the int16 vector `query` with row rows[i] (i < n):
   * the SIMD re-rank, for columns where `simd` holds. For 4-bit rows, with the nibbles c
   * themselves (0..15), not their levels 2c − 15 (CompactEmbeddingCodec.similarities).
   */
  dots(query: Int16Array, rows: ArrayLike<number>, n: number, out: Int32Array): void {
    this.kernel!.dots(query, rows, n, out);
  }

  private resize(cap: number): void {
    const bytes = cap * this.rowBytes;
    if (!this.kernel && this.simdAllowed && bytes >= SIMD_FROM_BYTES) {
      this.kernel = new DotKernel(this.dims, this.bits);
      const prior = this.rows;
      this.rows = this.kernel.rows(bytes);
      this.rows.set(prior.subarray(0, Math.min(prior.length, bytes)));
    } else if (this.kernel) this.rows = this.kernel.rows(bytes);
    else {
      const rows = new Int8Array(bytes);
      rows.set(this.rows.subarray(0, Math.min(this.rows.length, bytes)));
      this.rows = rows;
    }
    const scalars = this.scalarsAhead.arraysFor(cap)[0];
    scalars.set(this.scalars.subarray(0, Math.min(this.scalars.length, scalars.length)));
    this.scalars = scalars;
  }
}

/** Row bytes from which CompactColumns re-rank in SIMD (4,096 rows of 256 dims). */
export const SIMD_FROM_BYTES = 1 << 20;

/**
 * A projection-kernel instance whose memory holds int8 rows after a small scratch area
 * (the query, a batch of row numbers and their dot products), for CompactColumns.
 */
class DotKernel {
  static readonly MAX_DIMS = 512;
  /** Row numbers a call of the kernel takes: longer lists go in batches. */
  private static readonly BATCH = 1024;
  private static readonly QUERY_AT = 0;
  private static readonly IDS_AT = 2 * DotKernel.MAX_DIMS;
  private static readonly OUT_AT = DotKernel.IDS_AT + 4 * DotKernel.BATCH;
  private static readonly ROWS_AT = DotKernel.OUT_AT + 4 * DotKernel.BATCH;
  private readonly memory: WasmMemory;
  private readonly fn: (ids: number, n: number) => void;
  /** Bytes of the current view, and the most any view has had. */
  private viewed = 0;
  private used = 0;
  private query?: Int16Array;
  private ids?: Uint32Array;
  private out?: Int32Array;

  constructor(
    private readonly dims: number,
    private readonly bits: RerankBits,
  ) {
    const inst = wasmInstance(PROJECTION_KERNEL_WASM_BASE64);
    this.memory = inst.memory;
    const { QUERY_AT, ROWS_AT, OUT_AT } = DotKernel;
    type Dots = (query: number, dims: number, rows: number, ids: number, n: number, out: number) => void;
    type Dots4 = (even: number, odd: number, bytes: number, rows: number, ids: number, n: number, out: number) => void;
    if (bits === 8) {
      const dots = inst.exports.dots as Dots;
      this.fn = (ids, n) => dots(QUERY_AT, dims, ROWS_AT, ids, n, OUT_AT);
    } else {
      // The query's even coordinates, then its odd ones: dims / 2 int16 each.
      const dots4 = inst.exports.dots4 as Dots4;
      this.fn = (ids, n) => dots4(QUERY_AT, QUERY_AT + dims, dims / 2, ROWS_AT, ids, n, OUT_AT);
    }
  }

  /** Bytes of the scratch and the rows' view. (A trim cannot shrink the memory, but pages
   *  past every row written were never touched, and take no RAM: memory.grow maps zero pages.) */
  get bytes(): number {
    return DotKernel.ROWS_AT + this.viewed;
  }

  /** A view of `bytes` bytes of rows, keeping what the last view held of them. */
  rows(bytes: number): Int8Array {
    // A grown memory detaches its old buffer: the rows are where they were, under a new view.
    ensureMemory(this.memory, DotKernel.ROWS_AT + bytes);
    // Rows a trim left behind are zeroed when a view covers them again, as a new array's are
    // (zeroed then, not at the trim: a trim's slack is often memory no row ever touched).
    if (bytes > this.viewed && this.used > this.viewed)
      new Int8Array(this.memory.buffer, DotKernel.ROWS_AT + this.viewed, Math.min(bytes, this.used) - this.viewed).fill(0);
    this.viewed = bytes;
    this.used = Math.max(this.used, bytes);
    return new Int8Array(this.memory.buffer, DotKernel.ROWS_AT, bytes);
  }

  dots(query: Int16Array, rows: ArrayLike<number>, n: number, out: Int32Array): void {
    const { ids, dots } = this.scratch();
    const q = this.query!;
    if (this.bits === 8) q.set(query);
    else {
      const half = this.dims / 2;
      for (let j = 0; j < half; j++) {
        q[j] = query[2 * j];
        q[half + j] = query[2 * j + 1];
      }
    }
    for (let at = 0; at < n; at += DotKernel.BATCH) {
      const m = Math.min(DotKernel.BATCH, n - at);
      for (let i = 0; i < m; i++) ids[i] = rows[at + i];
      this.fn(DotKernel.IDS_AT, m);
      out.set(dots.subarray(0, m), at);
    }
  }

  /** Views of the scratch area, made again only after the memory grew (which detaches them). */
  private scratch(): { ids: Uint32Array; dots: Int32Array } {
    const buf = this.memory.buffer;
    if (this.ids?.buffer !== buf) {
      this.query = new Int16Array(buf, DotKernel.QUERY_AT, this.dims);
      this.ids = new Uint32Array(buf, DotKernel.IDS_AT, DotKernel.BATCH);
      this.out = new Int32Array(buf, DotKernel.OUT_AT, DotKernel.BATCH);
    }
    return { ids: this.ids, dots: this.out! };
  }
}

/** y · q[base, base + n): a free function over its arguments with four running sums,
 *  which V8 compiles to a tight loop (1.8 times the speed of the plain loop reading
 *  through `this`, on rows in cache; against 1 M rows the re-rank waits on memory
 *  instead). Re-ranking calls it for every candidate of every query region. */
function dotInt8(y: Int16Array, q: Int8Array, base: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    s0 += y[j] * q[base + j];
    s1 += y[j + 1] * q[base + j + 1];
    s2 += y[j + 2] * q[base + j + 2];
    s3 += y[j + 3] * q[base + j + 3];
  }
  for (; j < n; j++) s0 += y[j] * q[base + j];
  return s0 + s1 + s2 + s3;
}

/**
 * Writes the int8 vector at q[qAt…] (× scale) as dims nibbles at out[at…], 16 levels spread over its
 * largest magnitude: nibble c stands for (2c − 15) × the returned scale.
 */
function packNibbles(q: Int8Array, qAt: number, dims: number, scale: number, out: Int8Array, at: number): number {
  let max = 0;
  for (let j = 0; j < dims; j++) max = Math.max(max, Math.abs(q[qAt + j]));
  const table = max * 256 + 128;
  for (let j = 0; j < dims; j += 2) out[at + (j >> 1)] = NIBBLE_OF[table + q[qAt + j]] | (NIBBLE_OF[table + q[qAt + j + 1]] << 4);
  // A zero vector (its projection exactly 0) reads back as zero: scale 0.
  return max > 0 ? (max / 16) * scale : 0;
}

/**
 * NIBBLE_OF[max × 256 + 128 + v]: the nibble of the int8 value v in a row whose largest
 * magnitude is max. Level k in [−8, 7] covers [k, k + 1) × step, step = max / 8, and its
 * centre is (2k + 1) × step / 2. A table (33 KB) because re-quantizing a set's rows (a set
 * reaching METAPIXEL_RERANK_4BIT_FROM) divided 256 times a row: 1.5 µs a row, 1.0–1.3 with
 * the table (500 k rows).
 */
const NIBBLE_OF = (() => {
  const t = new Uint8Array(129 * 256);
  for (let max = 0; max <= 128; max++) {
    const step = max > 0 ? max / 8 : 1;
    for (let v = -128; v < 128; v++) t[max * 256 + 128 + v] = Math.max(-8, Math.min(7, Math.floor(v / step))) + 8;
  }
  return t;
})();

/** y · the nibble vector at q[base…] (n coordinates), each nibble c as 2c − 15. */
function dotNibbles(y: Int16Array, q: Int8Array, base: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let j = 0;
  for (let b = base; j + 1 < n; j += 2, b++) {
    const v = q[b] & 0xff;
    s0 += y[j] * ((v & 15) * 2 - 15);
    s1 += y[j + 1] * ((v >> 4) * 2 - 15);
  }
  return s0 + s1;
}

/** Float -> IEEE 754 binary16 bits, rounding to nearest. */
export function toHalf(v: number): number {
  F32[0] = v;
  const x = U32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 112; // rebias 127 -> 15
  const mant = x & 0x7fffff;
  if (exp >= 31) return sign | 0x7c00 | (((x >>> 23) & 0xff) === 0xff && mant ? 0x200 : 0);
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = (mant | 0x800000) >> (1 - exp);
    return sign | ((m + 0x1000) >> 13);
  }
  // Rounding may carry into the exponent, which is the right result.
  return (sign | (exp << 10) | (mant >> 13)) + ((mant >> 12) & 1);
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
/** binary16 bits -> float, for all 65,536 values. */
const HALF = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] = e === 0 ? sign * m * 2 ** -24 : e === 31 ? (m ? NaN : sign * Infinity) : sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
})();

export class CompactEmbeddingCodec {
  readonly dims: number;
  readonly columnBits: RerankBits;
  private readonly inputDims: number;
  private readonly mm: number;
  /** The SIMD re-rank's dot products (scratch, grown to the largest batch). */
  private dots = new Int32Array(256);
  /** Scratch of similaritiesMany: each row's scale, norm, residual and offset. */
  private rowScalars = new Float64Array(4 * 256);

  /**
   * Code lengths whose binary codes are the signs of this projection's leading entries: the
   * hash of that length is PCA-sign over the same mean and basis (models/hashing: all three
   * are), so a query's code comes from its projection at no further cost (codeOf).
   */
  readonly prefixCodeBits: ReadonlySet<number>;

  /** 8 bytes naming the projection (a hash of its mean and basis): serialized vectors
   *  carry it, so data made by another projection is recognised and not used. */
  readonly fingerprint: Uint8Array;

  /** The basis in WebAssembly memory (undefined: projected in JS). */
  private readonly simd?: SimdProjection;
  private readonly batch?: BatchProjection;
  /** prepareAllAsync calls whose batch projection failed and that were prepared here instead. */
  batchFallbacks = 0;

  constructor(
    private readonly params: Pick<ItqParams, 'dims' | 'bits' | 'mean' | 'rows'>,
    hashes: readonly Pick<ItqParams, 'bits' | 'mean' | 'rows' | 'method'>[] = [],
    opts: {
      /** Project with the WebAssembly SIMD kernel (default) or in plain JS (the reference). */
      simd?: boolean;
      /** Leading directions kept (default: all of the basis). Fewer make each region smaller
       *  and its re-rank cheaper; the directions left out join the residual term. */
      dims?: number;
      /** Bits a coordinate takes in the index's columns (default 8); the store keeps int8. */
      columnBits?: RerankBits;
      /** Projects queries for prepareAllAsync (made from the same basis; its load checks). */
      batch?: BatchProjection;
    } = {},
  ) {
    this.columnBits = opts.columnBits ?? 8;
    this.dims = opts.dims ?? params.bits;
    if (!Number.isInteger(this.dims) || this.dims < 1 || this.dims > params.bits)
      throw new RangeError(`re-rank dims must be from 1 to ${params.bits}, not ${this.dims}`);
    if (opts.batch && opts.batch.outputs < this.dims)
      throw new RangeError(`a batch projection of ${opts.batch.outputs} coordinates cannot serve ${this.dims} re-rank dims`);
    this.batch = opts.batch;
    if (this.columnBits === 4 && this.dims % 2) throw new RangeError('4-bit re-rank columns need an even number of dims');
    if (opts.simd !== false && params.dims % 4 === 0)
      this.simd = new SimdProjection(params.rows.subarray(0, this.dims * params.dims), params.dims, this.dims);
    const h = createHash('sha256');
    for (const a of [params.mean, params.rows]) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    this.fingerprint = new Uint8Array(h.digest().subarray(0, 8));
    this.inputDims = params.dims;
    let mm = 0;
    for (let i = 0; i < params.dims; i++) mm += params.mean[i] * params.mean[i];
    this.mm = mm;
    const same = (a: Float32Array, b: Float32Array) => a.length <= b.length && a.every((v, i) => v === b[i]);
    this.prefixCodeBits = new Set(
      hashes
        .filter((h) => h.method === 'pca-sign' && h.bits <= this.dims && same(h.mean, params.mean) && same(h.rows, params.rows))
        .map((h) => h.bits),
    );
  }

  /** The `bits`-bit code of a prepared query (bits in prefixCodeBits): bit j = y[j] > 0,
   *  laid out as every code (bit i = bit i % 8 of byte i / 8). */
  codeOf(query: PreparedQuery, bits: number): Uint8Array {
    if (!this.prefixCodeBits.has(bits)) throw new RangeError(`${bits}-bit codes are not signs of this projection`);
    const code = new Uint8Array(bits / 8);
    for (let j = 0; j < bits; j++) if (query.y[j] > 0) code[j >> 3] |= 1 << (j & 7);
    return code;
  }

  /** Bytes one region takes in CompactColumns: the vector and four half floats. */
  get bytesPerVector(): number {
    return (this.dims * this.columnBits) / 8 + 8;
  }

  encode(x: Float32Array): CompactVector {
    const { y, norm, residual } = this.projectWithNorms([x])[0];
    return this.quantize(y, this.meanDot(x), norm, residual);
  }

  /** The compact vector of a projection y = P(x − m) with m·x = offset, |y| = norm and the
   *  residual's norm (encode's last step; synthetic data for benchmarks starts here). */
  quantize(y: Float32Array, offset: number, norm: number, residual: number): CompactVector {
    let max = 0;
    for (let j = 0; j < y.length; j++) max = Math.max(max, Math.abs(y[j]));
    const scale = max > 0 ? max / 127 : 1;
    const q = new Int8Array(this.dims);
    // Never 0 for a non-zero value: q keeps y's sign, so the sign codes of the leading
    // entries (codeOf, CompactColumns.codeOf) are those of the float projection.
    for (let j = 0; j < y.length; j++)
      q[j] = y[j] > 0 ? Math.max(1, Math.round(y[j] / scale)) : y[j] < 0 ? Math.min(-1, Math.round(y[j] / scale)) : 0;
    return { q, scale, offset, norm, residual };
  }

  /** Bytes for the store: fingerprint, then q, then scale, offset, norm, residual (float32 LE). */
  serialize(v: CompactVector): Uint8Array {
    const out = new Uint8Array(8 + this.dims + 16);
    out.set(this.fingerprint);
    out.set(new Uint8Array(v.q.buffer, v.q.byteOffset, this.dims), 8);
    const view = new DataView(out.buffer, 8 + this.dims);
    [v.scale, v.offset, v.norm, v.residual].forEach((x, i) => view.setFloat32(i * 4, x, true));
    return out;
  }

  /** Names the projection, the directions kept and the columns' bits: a snapshot made
   *  under another is not read. */
  get formatId(): string {
    const hex = Buffer.from(this.fingerprint).toString('hex');
    // '/4b2': 4-bit rows packed from the half-float scale (12-06); '/4b' snapshots, packed
    // from the float one, are not read (their scales may differ by a step from a rebuild's).
    return (this.dims === this.params.bits ? hex : `${hex}/${this.dims}`) + (this.columnBits === 8 ? '' : '/4b2');
  }

  /**
   * The vector serialize wrote, or undefined when it was made by another projection or
   * keeps fewer directions than this codec. One that keeps more (written with a larger
   * METAPIXEL_RERANK_DIMS) is cut to this codec's: its leading directions re-quantized,
   * the others folded into the residual, so changing the setting needs no re-embedding.
   */
  deserialize(bytes: Uint8Array): CompactVector | undefined {
    const dims = bytes.length - 24;
    if (dims < this.dims || this.fingerprint.some((b, i) => bytes[i] !== b)) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset + 8 + dims, 16);
    const [scale, offset, norm, residual] = [0, 1, 2, 3].map((i) => view.getFloat32(i * 4, true));
    const q = new Int8Array(bytes.slice(8, 8 + dims).buffer);
    if (dims === this.dims) return { q, scale, offset, norm, residual };
    const y = new Float32Array(this.dims);
    let kept = 0;
    let all = 0;
    for (let j = 0; j < dims; j++) {
      const v = q[j] * scale;
      all += v * v;
      if (j < this.dims) {
        y[j] = v;
        kept += v * v;
      }
    }
    // The stored norm is exact where `all` is int8-rounded: each part gets its share of it,
    // so norm² + residual² stays what it was.
    const share = all > 0 ? (norm * norm) / all : 0;
    return this.quantize(y, offset, Math.sqrt(kept * share), Math.sqrt(residual * residual + (all - kept) * share));
  }

  prepare(x: Float32Array): PreparedQuery {
    return this.prepareAll([x])[0];
  }

  /** prepare for every region of a query at once (the kernel projects four per pass). */
  prepareAll(xs: readonly Float32Array[]): PreparedQuery[] {
    return this.projectWithNorms(xs).map(({ y, norm, residual }, i) => this.prepared(y, norm, residual, this.meanDot(xs[i])));
  }

  /** prepareAll by the batch projection when the codec has one (one onnxruntime run for a
   *  query's regions), else in this thread. The same numbers but for float rounding. */
  async prepareAllAsync(xs: readonly Float32Array[]): Promise<PreparedQuery[]> {
    if (!this.batch) return this.prepareAll(xs);
    for (const x of xs)
      if (x.length !== this.inputDims) throw new RangeError(`embedding has ${x.length} values, expected ${this.inputDims}`);
    let projected: Projected[];
    try {
      projected = await this.batch.project(xs);
    } catch {
      // A failed run (a session released at shutdown, say) costs time, not the answer.
      this.batchFallbacks++;
      return this.prepareAll(xs);
    }
    return projected.map((p) => {
      const y = p.y.length === this.dims ? p.y : p.y.slice(0, this.dims);
      const { norm, residual } = norms(y, p.centredSquared);
      return this.prepared(y, norm, residual, p.meanDot);
    });
  }

  private prepared(y: Float32Array, norm: number, residual: number, meanDot: number): PreparedQuery {
    let max = 0;
    for (let j = 0; j < y.length; j++) max = Math.max(max, Math.abs(y[j]));
    const y16Scale = max > 0 ? max / 32767 : 1;
    const y16 = new Int16Array(y.length);
    for (let j = 0; j < y.length; j++) y16[j] = Math.round(y[j] / y16Scale);
    return { y, y16, y16Scale, offset: meanDot - this.mm, norm, residual };
  }

  /** Growable typed-array columns for this codec's vectors (what an index holds); they
   *  re-rank in SIMD when the codec projects in SIMD and their layout allows. */
  columns(capacity = 0, bits: RerankBits = this.columnBits): CompactColumns {
    return new CompactColumns(this.dims, capacity, bits, { simd: this.simd !== undefined });
  }

  /** Approximate cosine of the prepared query and row `i` of the columns. */
  similarity(query: PreparedQuery, v: CompactColumns, i: number): number {
    const base = i * v.rowBytes;
    // With the int16 query, as the SIMD kernels: an integer sum, exact either way, so a set
    // scores the same whether its rows are re-ranked in JS or in SIMD.
    const dot = v.bits === 8 ? dotInt8(query.y16, v.q, base, this.dims) : dotNibbles(query.y16, v.q, base, this.dims);
    return this.finish(query, v, i, dot * query.y16Scale);
  }

  /**
   * out[i] = similarity(query, v, rows[i]) for i < n, the same numbers, in SIMD when the
   * columns allow (CompactColumns). A search's candidates go through here in one call:
   * their rows are read by the kernel where they lie.
   */
  similarities(query: PreparedQuery, v: CompactColumns, rows: ArrayLike<number>, n: number, out: Float64Array): void {
    this.similaritiesMany([query], v, rows, n, out);
  }

  /**
   * out[q * n + i] = similarity(queries[q], v, rows[i]): similarities for several queries
   * and the same rows, each row's scalars read once for all of them (the contrast scores
   * the rows of a search's best products against its 25 windows). In SIMD, the scalars are
   * read in a loop of their own, whose cache misses overlap.
   */
  similaritiesMany(queries: readonly PreparedQuery[], v: CompactColumns, rows: ArrayLike<number>, n: number, out: Float64Array): void {
    if (!v.simd) {
      queries.forEach((query, q) => {
        for (let i = 0; i < n; i++) out[q * n + i] = this.similarity(query, v, rows[i]);
      });
      return;
    }
    if (this.dots.length < n) {
      const size = Math.max(n, 2 * this.dots.length);
      this.dots = new Int32Array(size);
      this.rowScalars = new Float64Array(4 * size);
    }
    const { dots, rowScalars: rs } = this;
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      rs[4 * i] = v.scale(row);
      rs[4 * i + 1] = v.norm(row);
      rs[4 * i + 2] = v.residual(row);
      rs[4 * i + 3] = v.offset(row);
    }
    queries.forEach((query, q) => {
      v.dots(query.y16, rows, n, dots);
      // Nibble c stands for the level 2c − 15: sum y (2c − 15) = 2 sum y c − 15 sum y.
      let sum = 0;
      if (v.bits === 4) for (let j = 0; j < this.dims; j++) sum += query.y16[j];
      const at = q * n;
      for (let i = 0; i < n; i++) {
        const dot = (v.bits === 8 ? dots[i] : 2 * dots[i] - 15 * sum) * query.y16Scale;
        out[at + i] = this.combine(query, dot, rs[4 * i], rs[4 * i + 1], rs[4 * i + 2], rs[4 * i + 3]);
      }
    });
  }

  /** The similarity from the projections' dot product (before the row's scale). */
  private finish(query: PreparedQuery, v: CompactColumns, i: number, dot: number): number {
    return this.combine(query, dot, v.scale(i), v.norm(i), v.residual(i), v.offset(i));
  }

  /** The similarity from the dot product and the row's scalars. */
  private combine(query: PreparedQuery, dot: number, scale: number, norm: number, residual: number, offset: number): number {
    const projected = dot * scale;
    const cos = query.norm > 0 && norm > 0 ? projected / (query.norm * norm) : 0;
    return projected + Math.max(0, cos) * query.residual * residual + offset + query.offset;
  }

  private projectWithNorms(xs: readonly Float32Array[]): { y: Float32Array; norm: number; residual: number }[] {
    const { mean } = this.params;
    const n = this.inputDims;
    const centred = xs.map((x) => {
      if (x.length !== n) throw new RangeError(`embedding has ${x.length} values, expected ${n}`);
      const c = new Float32Array(n);
      let sq = 0;
      for (let i = 0; i < n; i++) {
        c[i] = x[i] - mean[i];
        sq += c[i] * c[i];
      }
      return { c, sq };
    });
    const ys = centred.map(() => new Float32Array(this.dims));
    if (this.simd) {
      for (let at = 0; at < xs.length; at += 4)
        this.simd.project(
          centred.slice(at, at + 4).map((v) => v.c),
          ys.slice(at, at + 4),
        );
    } else centred.forEach((v, i) => this.projectJs(v.c, ys[i]));
    return ys.map((y, i) => ({ y, ...norms(y, centred[i].sq) }));
  }

  /** y = P c in plain JS, four accumulators a row. */
  private projectJs(c: Float32Array, y: Float32Array): void {
    const { rows } = this.params;
    const n = this.inputDims;
    for (let j = 0; j < this.dims; j++) {
      const base = j * n;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let i = 0;
      for (; i + 3 < n; i += 4) {
        s0 += rows[base + i] * c[i];
        s1 += rows[base + i + 1] * c[i + 1];
        s2 += rows[base + i + 2] * c[i + 2];
        s3 += rows[base + i + 3] * c[i + 3];
      }
      for (; i < n; i++) s0 += rows[base + i] * c[i];
      y[j] = s0 + s1 + s2 + s3;
    }
  }

  private meanDot(x: Float32Array): number {
    let s = 0;
    for (let i = 0; i < this.inputDims; i++) s += this.params.mean[i] * x[i];
    return s;
  }
}

/**
 * The PCA basis (m rows of n floats) copied into a WebAssembly instance of
 * projection-kernel.wat, which projects four centred vectors per pass over it with f32x4
 * arithmetic: the projection is the search path's hottest loop (one per query region).
 * Any m × n matrix will do (coarse lists use their centroids: a vector's dot products with
 * all of them at once).
 */
export class SimdProjection {
  private readonly memory: WasmMemory;
  private readonly fn: (rows: number, n: number, m: number, xs: number, ys: number) => void;
  private readonly xsAt: number;
  private readonly ysAt: number;

  constructor(
    rows: Float32Array,
    private readonly n: number,
    private readonly m: number,
  ) {
    const inst = wasmInstance(PROJECTION_KERNEL_WASM_BASE64);
    this.memory = inst.memory;
    this.fn = inst.exports.project4 as SimdProjection['fn'];
    this.xsAt = rows.byteLength;
    this.ysAt = this.xsAt + 16 * n;
    ensureMemory(this.memory, this.ysAt + 16 * m);
    new Float32Array(this.memory.buffer, 0, rows.length).set(rows);
  }

  /** ys[q] = P cs[q] for up to four inputs. */
  project(cs: readonly Float32Array[], ys: readonly Float32Array[]): void {
    const buf = this.memory.buffer;
    const x = new Float32Array(buf, this.xsAt, 4 * this.n);
    cs.forEach((c, q) => x.set(c, q * this.n));
    // Slots past cs.length keep earlier inputs: their outputs are not read.
    this.fn(0, this.n, this.m, this.xsAt, this.ysAt);
    const y = new Float32Array(buf, this.ysAt, 4 * this.m);
    ys.forEach((out, q) => out.set(y.subarray(q * this.m, (q + 1) * this.m)));
  }
}
