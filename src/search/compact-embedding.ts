/**
 * Re-rank data in 272 bytes a region instead of 7,168: the embedding's projection onto the
 * top 256 PCA directions (models/hashing/itq-256: its rows are that basis), as int8 with one
 * scale per region, plus three numbers: the embedding's dot product with the PCA mean, the
 * projection's norm and the norm of what the projection leaves out. For unit vectors x, y,
 * mean m, P the 256 leading directions and R the other 1,536:
 *
 *   x·y = P(x−m)·P(y−m) + R(x−m)·R(y−m) + m·x + m·y − m·m
 *
 * Everything but the residual term is kept exactly (up to int8 rounding); the residual
 * term is estimated as |R(x−m)| |R(y−m)| times the cosine of the two projections (clamped
 * at 0): residuals of near-identical images point the same way, those of unrelated images
 * do not. So the score keeps the cosine's scale and a region matches itself at 1
 * (docs/search.md gives the measured error and its cost in recall). The query side is
 * projected in float.
 */
import type { ItqParams } from './hasher/itq-params';

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
  /** m·x − m·m: the terms that do not depend on the region. */
  offset: number;
  norm: number;
  residual: number;
}

/** Packed re-rank data of n regions. */
export interface CompactVectors {
  q: Int8Array;
  scale: Float32Array;
  offset: Float32Array;
  norm: Float32Array;
  residual: Float32Array;
}

export class CompactEmbeddingCodec {
  readonly dims: number;
  private readonly inputDims: number;
  private readonly mm: number;

  /**
   * Code lengths whose binary codes are the signs of this projection's leading entries: the
   * hash of that length is PCA-sign over the same mean and basis (models/hashing: all three
   * are), so a query's code comes from its projection at no further cost (codeOf).
   */
  readonly prefixCodeBits: ReadonlySet<number>;

  constructor(
    private readonly params: Pick<ItqParams, 'dims' | 'bits' | 'mean' | 'rows'>,
    hashes: readonly Pick<ItqParams, 'bits' | 'mean' | 'rows' | 'method'>[] = [],
  ) {
    this.dims = params.bits;
    this.inputDims = params.dims;
    let mm = 0;
    for (let i = 0; i < params.dims; i++) mm += params.mean[i] * params.mean[i];
    this.mm = mm;
    const same = (a: Float32Array, b: Float32Array) => a.length <= b.length && a.every((v, i) => v === b[i]);
    this.prefixCodeBits = new Set(
      hashes.filter((h) => h.method === 'pca-sign' && h.bits <= this.dims && same(h.mean, params.mean) && same(h.rows, params.rows)).map((h) => h.bits),
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

  /** Bytes one region takes: the int8 vector and four float32 numbers. */
  get bytesPerVector(): number {
    return this.dims + 16;
  }

  encode(x: Float32Array): CompactVector {
    const { y, norm, residual } = this.projectWithNorms(x);
    let max = 0;
    for (let j = 0; j < y.length; j++) max = Math.max(max, Math.abs(y[j]));
    const scale = max > 0 ? max / 127 : 1;
    const q = new Int8Array(this.dims);
    for (let j = 0; j < y.length; j++) q[j] = Math.round(y[j] / scale);
    return { q, scale, offset: this.meanDot(x), norm, residual };
  }

  prepare(x: Float32Array): PreparedQuery {
    const { y, norm, residual } = this.projectWithNorms(x);
    return { y, offset: this.meanDot(x) - this.mm, norm, residual };
  }

  /** Packs encoded vectors into typed arrays (what an index holds). */
  pack(list: readonly CompactVector[]): CompactVectors {
    const n = list.length;
    const out = { q: new Int8Array(n * this.dims), scale: new Float32Array(n), offset: new Float32Array(n), norm: new Float32Array(n), residual: new Float32Array(n) };
    list.forEach((c, i) => {
      out.q.set(c.q, i * this.dims);
      out.scale[i] = c.scale;
      out.offset[i] = c.offset;
      out.norm[i] = c.norm;
      out.residual[i] = c.residual;
    });
    return out;
  }

  /** Approximate cosine of the prepared query and region `i` of packed vectors. */
  similarity(query: PreparedQuery, v: CompactVectors, i: number): number {
    const base = i * this.dims;
    let s = 0;
    for (let j = 0; j < this.dims; j++) s += query.y[j] * v.q[base + j];
    const projected = s * v.scale[i];
    const cos = query.norm > 0 && v.norm[i] > 0 ? projected / (query.norm * v.norm[i]) : 0;
    return projected + Math.max(0, cos) * query.residual * v.residual[i] + v.offset[i] + query.offset;
  }

  private projectWithNorms(x: Float32Array): { y: Float32Array; norm: number; residual: number } {
    const { mean, rows } = this.params;
    const n = this.inputDims;
    if (x.length !== n) throw new RangeError(`embedding has ${x.length} values, expected ${n}`);
    const c = new Float32Array(n);
    let centred = 0;
    for (let i = 0; i < n; i++) {
      c[i] = x[i] - mean[i];
      centred += c[i] * c[i];
    }
    // Four accumulators: the loop is the search path's hottest (one per query region).
    const y = new Float32Array(this.dims);
    let norm = 0;
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
      norm += y[j] * y[j];
    }
    return { y, norm: Math.sqrt(norm), residual: Math.sqrt(Math.max(0, centred - norm)) };
  }

  private meanDot(x: Float32Array): number {
    let s = 0;
    for (let i = 0; i < this.inputDims; i++) s += this.params.mean[i] * x[i];
    return s;
  }
}
