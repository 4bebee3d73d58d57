/**
 * Sign random projections (Charikar's SimHash): the baseline the learned hashers are
 * measured against. The Hamming distance of two codes estimates the angle between the
 * embeddings, with no training, so it is also the safe fallback when no ITQ params ship.
 */
import { encodeLinear, Hasher, paramsFingerprint } from './hasher';
import { SeededRandom } from './seeded-random';

export class RandomProjectionHasher implements Hasher {
  readonly method = 'random-projection' as const;
  readonly fingerprint: string;
  private readonly rows: Float32Array;
  // Zero: embeddings are not centred here, so the hyperplanes pass through the origin.
  private readonly bias: Float32Array;

  /** Same (bits, dims, seed) always gives the same projections, so stored codes stay valid. */
  constructor(
    readonly bits: number,
    readonly dims: number,
    readonly seed = 1,
  ) {
    if (!Number.isInteger(bits) || bits <= 0 || !Number.isInteger(dims) || dims <= 0) {
      throw new RangeError(`bad hasher shape: ${bits} bits × ${dims} dims`);
    }
    const rng = new SeededRandom(seed);
    this.rows = new Float32Array(bits * dims);
    for (let k = 0; k < this.rows.length; k++) this.rows[k] = rng.gaussian();
    this.bias = new Float32Array(bits);
    this.fingerprint = paramsFingerprint(this.bias, this.rows);
  }

  encode(embedding: Float32Array): Uint8Array {
    return encodeLinear(embedding, this.rows, this.bias, this.bits, this.dims);
  }
}
