/**
 * A query's regions projected onto the PCA basis in one onnxruntime run
 * (models/hashing/projection-256.onnx, written from itq-256.bin by
 * tools/hashing/projection_onnx.py): MLAS's GEMM uses the CPU's widest SIMD (AVX-512 on the
 * 2-core VM), 0.3 ms for 30 regions against 1.9 ms in the WebAssembly f32x4 kernel, which
 * was the largest part of a query's index time at a million regions (docs/search.md).
 * onnxruntime-node runs a session on the JS thread, after a setImmediate: the await lets
 * other callbacks run first, and the run itself blocks as the kernel did, for less time.
 */
import * as ort from 'onnxruntime-node';
import { failedPrecondition, internal } from '../core/errors';
import type { BatchProjection, Projected } from './compact-embedding';
import { readHashingFile, type ItqParams } from './hasher/itq-params';

/** Largest |difference| from the float64 projection a loaded file may show (its weights are
 *  the .bin's; float32 sums of 1792 terms differ by ~1e-6). */
const TOLERANCE = 1e-3;

/** The graph of the `bits`-direction basis in the hashing directory (tools/hashing/projection_onnx.py). */
export const projectionFile = (bits: number): string => `projection-${bits}.onnx`;

export class OnnxProjection implements BatchProjection {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputs: number,
    readonly outputs: number,
  ) {}

  /**
   * Loads projection-<bits>.onnx from the hashing directory (sha256 checked against its
   * manifest) and checks it against the parameters it was written from: a file made from
   * another basis fails here, not as codes that match nothing.
   */
  static async load(dir: string, params: Pick<ItqParams, 'bits' | 'dims' | 'mean' | 'rows'>): Promise<OnnxProjection> {
    const bytes = await readHashingFile(dir, projectionFile(params.bits));
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const self = new OnnxProjection(session, params.dims, params.bits);
    await self.check(params);
    return self;
  }

  async project(xs: readonly Float32Array[]): Promise<Projected[]> {
    if (xs.length === 0) return [];
    const n = this.inputs;
    const x = new Float32Array(xs.length * n);
    xs.forEach((v, i) => {
      if (v.length !== n) throw new RangeError(`embedding has ${v.length} values, expected ${n}`);
      x.set(v, i * n);
    });
    const out = await this.session.run({ x: new ort.Tensor('float32', x, [xs.length, n]) });
    const [y, sq, offset] = [out.y, out.sq, out.offset].map((t) => {
      if (t?.type !== 'float32') throw internal(`projection output is ${t?.type ?? 'missing'}, expected float32`);
      return t.data as Float32Array;
    });
    if (y.length !== xs.length * this.outputs || sq.length !== xs.length || offset.length !== xs.length)
      throw internal(`projection returned ${y.length} values for ${xs.length} embeddings`);
    return xs.map((_, i) => ({
      y: y.slice(i * this.outputs, (i + 1) * this.outputs),
      centredSquared: sq[i],
      meanDot: offset[i],
    }));
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  /** Three fixed vectors (the mean, a basis row, their mix) against float64 arithmetic. */
  private async check(p: Pick<ItqParams, 'bits' | 'dims' | 'mean' | 'rows'>): Promise<void> {
    const row = (j: number) => p.rows.subarray(j * p.dims, (j + 1) * p.dims);
    const probes = [
      Float32Array.from(p.mean),
      Float32Array.from(row(0)),
      p.mean.map((m, i) => m - 0.5 * row(p.bits - 1)[i] + 0.01 * (i % 7)),
    ];
    const got = await this.project(probes);
    probes.forEach((x, q) => {
      let sq = 0;
      let md = 0;
      for (let i = 0; i < p.dims; i++) {
        sq += (x[i] - p.mean[i]) ** 2;
        md += x[i] * p.mean[i];
      }
      let worst = Math.max(Math.abs(sq - got[q].centredSquared), Math.abs(md - got[q].meanDot));
      for (let j = 0; j < p.bits; j++) {
        let y = 0;
        for (let i = 0; i < p.dims; i++) y += (x[i] - p.mean[i]) * p.rows[j * p.dims + i];
        worst = Math.max(worst, Math.abs(y - got[q].y[j]));
      }
      if (!(worst <= TOLERANCE))
        throw failedPrecondition(`${projectionFile(p.bits)} does not match itq-${p.bits}.bin (difference ${worst} on probe ${q})`);
    });
  }
}
