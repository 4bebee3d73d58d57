/**
 * The hash tables of Multi-Index Hashing in CSR form: per substring, a dense offsets array
 * over every possible (folded) substring value (2^tableBits + 1 entries) and the slots
 * sorted by value. Typed arrays only: 10 M codes x 3 tables would be hundreds of MB more
 * as Maps of arrays.
 */
import { invalidArgument } from '../../core/errors';

/** Longest substring (the paper's substrings reach 32 bits only at billions of codes). */
export const MAX_SUBSTRING_BITS = 32;
/**
 * Widest dense bucket table: 2^24 + 1 uint32 offsets = 64 MB. A longer substring is
 * folded to its low DENSE_BITS bits for bucketing, so a bucket holds a superset of the
 * codes with that exact substring; every candidate's full distance is verified, so folding
 * costs work, never exactness.
 */
export const DENSE_BITS = 24;

export interface Substring {
  /** First bit (code bit numbering of hamming-index.ts). */
  start: number;
  len: number;
}

export interface CsrTable {
  /** offsets[v] .. offsets[v+1] index `slots` for (folded) substring value v. */
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

/** Bits of the dense bucket table of a substring of `len` bits. */
export function tableBits(len: number): number {
  return Math.min(len, DENSE_BITS);
}

/** Value of the substring of the code at words[at ..] (len <= 32, so it spans <= 2
 *  words), as a uint32. */
export function substringValue(words: Int32Array, at: number, sub: Substring): number {
  const w = at + (sub.start >>> 5);
  const b = sub.start & 31;
  let v = words[w] >>> b;
  if (b > 0 && b + sub.len > 32) v |= words[w + 1] << (32 - b);
  return sub.len === 32 ? v >>> 0 : (v & ((1 << sub.len) - 1)) >>> 0;
}

/** Counting sort of slots 0..n-1 by folded substring value: O(n + 2^tableBits), stable. */
export function buildTable(words: Int32Array, wpc: number, n: number, sub: Substring): CsrTable {
  const tb = tableBits(sub.len);
  const fold = tb === 32 ? 0xffffffff : (1 << tb) - 1;
  const values = tb <= 8 ? new Uint8Array(n) : tb <= 16 ? new Uint16Array(n) : new Uint32Array(n);
  const offsets = new Uint32Array(2 ** tb + 1);
  for (let s = 0; s < n; s++) {
    const v = (substringValue(words, s * wpc, sub) & fold) >>> 0;
    values[s] = v;
    offsets[v + 1]++;
  }
  for (let v = 1; v < offsets.length; v++) offsets[v] += offsets[v - 1];
  const fill = offsets.slice(0, offsets.length - 1);
  const slots = new Uint32Array(n);
  for (let s = 0; s < n; s++) slots[fill[values[s]]++] = s;
  return { offsets, slots };
}

const binomials: number[][] = [];

/** C(n, r) for n <= 32 (exact in a double). */
export function binomial(n: number, r: number): number {
  if (r < 0 || r > n) return 0;
  while (binomials.length <= n) {
    const i = binomials.length;
    const row = [1];
    for (let j = 1; j <= i; j++) row.push((binomials[i - 1][j - 1] ?? 0) + (binomials[i - 1][j] ?? 0));
    binomials.push(row);
  }
  return binomials[n][r];
}

/**
 * Number of substrings for n codes of `bits` bits: Norouzi et al. choose m ~ bits /
 * log2(n), so that a substring table has about as many buckets as codes (one code per
 * bucket on average). Clamped to substrings of at most MAX_SUBSTRING_BITS and at least 4
 * bits (n below 16 is treated as 16).
 */
export function chooseM(n: number, bits: number): number {
  const lg = Math.log2(Math.max(n, 16));
  const m = Math.round(bits / lg);
  return Math.min(bits / 4, Math.max(Math.ceil(bits / MAX_SUBSTRING_BITS), m));
}
