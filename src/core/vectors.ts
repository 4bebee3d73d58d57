/** Vector math shared by the models (vision) and the index (search). */

/** v scaled to unit L2 norm, into a copy or into `out` (which may be v itself). An all-zero
 *  vector stays zero (its cosine with anything is then 0, which is the least surprising
 *  answer for a featureless crop). */
export function l2Normalize(v: Float32Array, out: Float32Array = new Float32Array(v.length)): Float32Array {
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += v[i] * v[i];
  if (ss === 0) return out.fill(0);
  const inv = 1 / Math.sqrt(ss);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * inv;
  return out;
}

/** Dot product; equals cosine similarity for vectors from Embedder.embed. */
export function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`embedding sizes differ: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Float32 view of stored little-endian bytes (copied when unaligned). */
export function toFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Float32Array(bytes.slice().buffer);
}
