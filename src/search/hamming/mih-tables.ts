/**
 * The hash tables of Multi-Index Hashing in CSR form: per substring, a dense offsets array
 * over every possible substring value (2^len + 1 entries) and the slots sorted by value.
 * Typed arrays only: 10 M codes x 4 tables would be hundreds of MB more as Maps of arrays.
 */
import { invalidArgument } from '../../core/errors';

/** Longest substring: its dense offsets table is 2^16 + 1 uint32 = 256 KB. */
export const MAX_SUBSTRING_BITS = 16;

export interface Substring {
  /** First bit (code bit numbering of hamming-index.ts). */
  start: number;
  len: number;
}

export interface CsrTable {
  /** offsets[v] .. offsets[v+1] index `slots` for substring value v. */
  offsets: Uint32Array;
  slots: Uint32Array;
}

/** Splits `bits` into m contiguous substrings whose lengths differ by at most one (the
 *  pigeonhole bound of MIH holds for any split; near-equal keeps buckets balanced). */
export function splitCode(bits: number, m: number): Substring[] {
  if (!Number.isInteger(m) || m < 1 || m > bits || Math.ceil(bits / m) > MAX_SUBSTRING_BITS) {
    throw invalidArgument(`m must be an integer in [${Math.ceil(bits / MAX_SUBSTRING_BITS)}, ${bits}] for ${bits}-bit codes, got ${m}.`);
  }
  const out: Substring[] = [];
  const base = Math.floor(bits / m);
  for (let t = 0, start = 0; t < m; t++) {
    const len = base + (t < bits % m ? 1 : 0);
    out.push({ start, len });
    start += len;
  }
  return out;
}

/** Value of the substring of the code at words[at ..]; len <= 16 so it spans <= 2 words. */
export function substringValue(words: Int32Array, at: number, sub: Substring): number {
  const w = at + (sub.start >>> 5);
  const b = sub.start & 31;
  let v = words[w] >>> b;
  if (b + sub.len > 32) v |= words[w + 1] << (32 - b);
  return v & ((1 << sub.len) - 1);
}

/** Counting sort of slots 0..n-1 by substring value: O(n + 2^len), stable by slot. */
export function buildTable(words: Int32Array, wpc: number, n: number, sub: Substring): CsrTable {
  const values = sub.len <= 8 ? new Uint8Array(n) : new Uint16Array(n);
  const offsets = new Uint32Array((1 << sub.len) + 1);
  for (let s = 0; s < n; s++) {
    const v = substringValue(words, s * wpc, sub);
    values[s] = v;
    offsets[v + 1]++;
  }
  for (let v = 1; v < offsets.length; v++) offsets[v] += offsets[v - 1];
  const fill = offsets.slice(0, offsets.length - 1);
  const slots = new Uint32Array(n);
  for (let s = 0; s < n; s++) slots[fill[values[s]]++] = s;
  return { offsets, slots };
}

export interface MaskList {
  /** All len-bit values ordered by popcount. */
  masks: Uint32Array;
  /** masks[byWeight[r] .. byWeight[r+1]) have popcount r. */
  byWeight: Uint32Array;
}

const maskCache = new Map<number, MaskList>();

/** The flip masks probed at each radius, computed once per substring length. */
export function masksFor(len: number): MaskList {
  const hit = maskCache.get(len);
  if (hit) return hit;
  const size = 1 << len;
  const byWeight = new Uint32Array(len + 2);
  const weight = (v: number) => {
    let c = 0;
    for (; v; v &= v - 1) c++;
    return c;
  };
  for (let v = 0; v < size; v++) byWeight[weight(v) + 1]++;
  for (let r = 1; r < byWeight.length; r++) byWeight[r] += byWeight[r - 1];
  const fill = byWeight.slice();
  const masks = new Uint32Array(size);
  for (let v = 0; v < size; v++) masks[fill[weight(v)]++] = v;
  const list = { masks, byWeight };
  maskCache.set(len, list);
  return list;
}
