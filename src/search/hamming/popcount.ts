/**
 * Popcount by bit tricks on 32-bit words (SWAR). Kept to int32 arithmetic so V8 stays on
 * its small-integer fast path; no BigInt anywhere near a hot loop.
 */

export function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** popcount(a) + popcount(b) with one final multiply: after the 2-bit stage every nibble
 *  holds <= 4, so the two words' nibbles can be added before the byte fold. */
export function popcount64(a: number, b: number): number {
  a = a - ((a >>> 1) & 0x55555555);
  b = b - ((b >>> 1) & 0x55555555);
  const s = (a & 0x33333333) + ((a >>> 2) & 0x33333333) + (b & 0x33333333) + ((b >>> 2) & 0x33333333);
  return Math.imul((s & 0x0f0f0f0f) + ((s >>> 4) & 0x0f0f0f0f), 0x01010101) >>> 24;
}

/** Hamming distance between the code at words[at .. at+wpc) and q[0 .. wpc); wpc is even. */
export function distanceAt(words: Int32Array, at: number, q: Int32Array, wpc: number): number {
  let d = 0;
  for (let w = 0; w < wpc; w += 2) d += popcount64(words[at + w] ^ q[w], words[at + w + 1] ^ q[w + 1]);
  return d;
}

/** The code bytes as little-endian 32-bit words (bit i of the code = bit i % 32 of word
 *  i / 32, matching the byte layout of hamming-index.ts). */
export function bytesToWords(bytes: Uint8Array, out: Int32Array = new Int32Array(bytes.length >> 2)): Int32Array {
  for (let w = 0, b = 0; w < out.length; w++, b += 4) {
    out[w] = bytes[b] | (bytes[b + 1] << 8) | (bytes[b + 2] << 16) | (bytes[b + 3] << 24);
  }
  return out;
}
