/**
 * Binary codes for embeddings. A code of `bits` bits is packed into ceil(bits / 8) bytes:
 * bit i is bit (i % 8) (least significant first) of byte floor(i / 8). The Hamming
 * index (src/search/hamming) relies on this layout, so every Hasher must use it.
 */
import { createHash } from 'node:crypto';

export interface Hasher {
  /** Code length in bits (a multiple of 8 for all shipped hashers). */
  readonly bits: number;
  /** How the projections were made (reported with codes by images:encode). */
  readonly method: HashMethod;
  /** Short hex digest of the parameters: equal fingerprints give comparable codes. */
  readonly fingerprint: string;
  /** Embedding dimensions the hasher accepts. */
  readonly dims: number;
  /** Packs sign(projection) of a unit-length embedding; bit = 1 when the value is > 0. */
  encode(embedding: Float32Array): Uint8Array;
}

export type HashMethod = 'itq' | 'pca-sign' | 'random-projection';

/** Hex sha256 prefix of the projection parameters (mean/bias and rows). */
export function paramsFingerprint(...parts: Float32Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  return h.digest('hex').slice(0, 16);
}

/**
 * Projects `x` with the row-major `bits × dims` matrix `rows` minus `bias`, and packs the
 * signs. Shared by every linear hasher so the bit order lives in one place.
 */
export function encodeLinear(x: Float32Array, rows: Float32Array, bias: Float32Array, bits: number, dims: number): Uint8Array {
  if (x.length !== dims) throw new RangeError(`embedding has ${x.length} values, the hasher expects ${dims}`);
  const code = new Uint8Array((bits + 7) >> 3);
  for (let j = 0; j < bits; j++) {
    const off = j * dims;
    let s = 0;
    for (let i = 0; i < dims; i++) s += x[i] * rows[off + i];
    if (s > bias[j]) code[j >> 3] |= 1 << (j & 7);
  }
  return code;
}

const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1];

/** Number of differing bits between two codes of equal length. */
export function hammingDistance(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`code sizes differ: ${a.length} vs ${b.length} bytes`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d += POPCOUNT[a[i] ^ b[i]];
  return d;
}
