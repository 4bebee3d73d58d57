/**
 * Seeded code generators and the brute-force oracle, shared by the hamming tests and by
 * bench/index.ts (same seed, same data, so a benchmark figure can be reproduced).
 */
import type { HammingHit } from '../../../src/search/hamming/hamming-index';

/** mulberry32: tiny, fast, and good enough to make test data; returns uint32s. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export function randomCodes(n: number, bits: number, seed: number): Uint8Array {
  const next = rng(seed);
  const out = new Uint8Array((n * bits) / 8);
  const view = new Uint32Array(out.buffer);
  for (let i = 0; i < view.length; i++) view[i] = next();
  return out;
}

/** Flips `flips` random bits (not necessarily distinct) of the code at out[at .. at+bits/8). */
function flipBits(out: Uint8Array, at: number, bits: number, flips: number, next: () => number): void {
  for (let f = 0; f < flips; f++) {
    const b = next() % bits;
    out[at + (b >> 3)] ^= 1 << (b & 7);
  }
}

/**
 * Clustered codes, the shape real image descriptors have: `centers` random centers, each
 * code a random center with up to `maxFlips` random bit flips.
 */
export function clusteredCodes(n: number, bits: number, centers: number, maxFlips: number, seed: number): Uint8Array {
  const next = rng(seed);
  const bytes = bits / 8;
  const c = randomCodes(centers, bits, seed ^ 0x5bd1e995);
  const out = new Uint8Array(n * bytes);
  for (let i = 0; i < n; i++) {
    const at = i * bytes;
    const src = (next() % centers) * bytes;
    out.set(c.subarray(src, src + bytes), at);
    flipBits(out, at, bits, next() % (maxFlips + 1), next);
  }
  return out;
}

/** Queries near the data distribution: copies of data codes with a few more flips. */
export function nearbyQueries(db: Uint8Array, bits: number, count: number, maxFlips: number, seed: number): Uint8Array {
  const next = rng(seed);
  const bytes = bits / 8;
  const n = db.length / bytes;
  const out = new Uint8Array(count * bytes);
  for (let i = 0; i < count; i++) {
    const src = (next() % n) * bytes;
    out.set(db.subarray(src, src + bytes), i * bytes);
    flipBits(out, i * bytes, bits, next() % (maxFlips + 1), next);
  }
  return out;
}

const BYTE_POPCOUNT = Uint8Array.from({ length: 256 }, (_, v) => {
  let c = 0;
  for (; v; v &= v - 1) c++;
  return c;
});

/** Deliberately naive (byte table, no words) so it shares no code with the indexes. */
export function hamming(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += BYTE_POPCOUNT[a[i] ^ b[i]];
  return d;
}

/** The oracle: every code's distance, sorted by (distance, id), first k kept. */
export function bruteForce(
  entries: ReadonlyMap<number, Uint8Array>,
  query: Uint8Array,
  k: number,
  filter?: (id: number) => boolean,
): HammingHit[] {
  const all: HammingHit[] = [];
  for (const [id, code] of entries) if (!filter || filter(id)) all.push({ id, distance: hamming(code, query) });
  all.sort((x, y) => x.distance - y.distance || x.id - y.id);
  return all.slice(0, k);
}

/**
 * The shared yardstick's clustered model (../shared/perf/gen_codes.py): n / 50 random
 * centres, every code a centre with each bit flipped with probability flipP; queries are
 * data codes flipped again. Many codes tie at the k-th distance.
 */
export function bernoulliClustered(n: number, bits: number, flipP: number, seed: number): Uint8Array {
  const next = rng(seed);
  const bytes = bits / 8;
  const centers = randomCodes(Math.max(1, Math.floor(n / 50)), bits, seed ^ 0x1b873593);
  const out = new Uint8Array(n * bytes);
  const limit = Math.floor(flipP * 4294967296);
  for (let i = 0; i < n; i++) {
    const src = (next() % (centers.length / bytes)) * bytes;
    out.set(centers.subarray(src, src + bytes), i * bytes);
    for (let b = 0; b < bits; b++) if (next() < limit) out[i * bytes + (b >> 3)] ^= 1 << (b & 7);
  }
  return out;
}

/** A coarse vector for any id, spread over its dims (coarse lists; ids are arbitrary uint32
 *  in the contract suite). */
export function vectorOfId(id: number, out: Float32Array): void {
  let h = id ^ 0x9e3779b9;
  for (let j = 0; j < out.length; j++) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    out[j] = (h % 2001) / 1000 - 1;
  }
}
