/**
 * Learned hash: centre, project onto the top-k PCA directions, rotate with the ITQ
 * rotation (Gong & Lazebnik 2011), take signs. The rotation is folded into the rows at
 * training time, so encoding costs the same as a random projection. For some code lengths
 * training's cross-validation keeps no rotation (plain PCA signs); the file format and
 * this class are the same either way, and the header's `method` says which it is.
 */
import { encodeLinear, Hasher, HashMethod, paramsFingerprint } from './hasher';
import { ItqParams, readItqParams } from './itq-params';

export class ItqHasher implements Hasher {
  readonly bits: number;
  readonly dims: number;
  readonly method: HashMethod;
  readonly fingerprint: string;
  private readonly rows: Float32Array;
  /** rows · mean per bit, so encode needs no centred copy of the embedding. */
  private readonly bias: Float32Array;

  constructor(params: ItqParams) {
    const { bits, dims, mean, rows } = params;
    if (mean.length !== dims || rows.length !== bits * dims) {
      throw new RangeError(`ITQ params: mean ${mean.length}, rows ${rows.length}; expected ${dims} and ${bits}×${dims}`);
    }
    this.bits = bits;
    this.dims = dims;
    this.rows = rows;
    this.method = params.method ?? 'itq';
    this.fingerprint = paramsFingerprint(mean, rows);
    this.bias = new Float32Array(bits);
    for (let j = 0; j < bits; j++) {
      let s = 0; // float64 sum: the bias must not drift with summation order
      for (let i = 0; i < dims; i++) s += rows[j * dims + i] * mean[i];
      this.bias[j] = s;
    }
  }

  /** Loads and checks `itq-<bits>.{json,bin}` from `dir` (normally models/hashing). */
  static async load(dir: string, bits: number): Promise<ItqHasher> {
    return new ItqHasher(await readItqParams(dir, bits));
  }

  encode(embedding: Float32Array): Uint8Array {
    return encodeLinear(embedding, this.rows, this.bias, this.bits, this.dims);
  }
}
