/**
 * The one conformance suite for HammingIndex (src/search/hamming/hamming-index.ts). Every
 * engine's test file calls runHammingContract with a factory; every answer is compared
 * with the brute-force oracle on seeded data, for each supported code length.
 */
import type { CodeBits, HammingIndex } from '../../../src/search/hamming/hamming-index';
import { bruteForce, clusteredCodes, nearbyQueries, randomCodes, rng } from './codes';

export type MakeIndex = (bits: CodeBits) => HammingIndex;

const BITS: readonly CodeBits[] = [64, 128, 256];

/** Adds codes under ids and mirrors them in `model` (the oracle's view). */
function load(index: HammingIndex, model: Map<number, Uint8Array>, ids: number[], codes: Uint8Array): void {
  index.add(ids, codes);
  const bytes = index.bits / 8;
  ids.forEach((id, i) => model.set(id, codes.slice(i * bytes, (i + 1) * bytes)));
}

/** Sparse, shuffled ids up to 2^32-1, so slot order, insertion order and id order differ. */
function sparseIds(n: number, seed: number): number[] {
  const next = rng(seed);
  const set = new Set<number>([0xffffffff, 0]);
  while (set.size < n) set.add(next());
  return [...set];
}

function expectAllMatch(
  index: HammingIndex,
  model: Map<number, Uint8Array>,
  queries: Uint8Array,
  ks: number[],
  filter?: (id: number) => boolean,
): void {
  const bytes = index.bits / 8;
  for (let q = 0; q < queries.length / bytes; q++) {
    const query = queries.subarray(q * bytes, (q + 1) * bytes);
    for (const k of ks) {
      const expected = bruteForce(model, query, k, filter);
      expect(index.search(query, k, { filter })).toEqual(expected);
      expect(Array.from(index.searchIds(query, k, { filter }))).toEqual(expected.map((hit) => hit.id));
    }
  }
}

export function runHammingContract(label: string, make: MakeIndex): void {
  describe(`HammingIndex contract: ${label}`, () => {
    describe.each(BITS)('%i-bit codes', (bits) => {
      const bytes = bits / 8;

      it('matches brute force on random codes', () => {
        const index = make(bits);
        const model = new Map<number, Uint8Array>();
        load(index, model, sparseIds(400, 1), randomCodes(400, bits, 2));
        expect(index.size).toBe(400);
        expectAllMatch(index, model, randomCodes(12, bits, 3), [1, 7, 40]);
      });

      it('breaks the many ties of clustered and duplicate codes by id', () => {
        const index = make(bits);
        const model = new Map<number, Uint8Array>();
        const codes = clusteredCodes(500, bits, 6, 2, 4);
        load(index, model, sparseIds(500, 5), codes);
        // Exact duplicates of the queries themselves, under fresh ids.
        const queries = nearbyQueries(codes, bits, 10, 2, 6);
        load(index, model, [7, 8, 9, 10, 11], queries.slice(0, 5 * bytes));
        expectAllMatch(index, model, queries, [1, 10, 60]);
      });

      it('returns everything for k > n, nothing for k = 0 or an empty index', () => {
        const index = make(bits);
        const q = randomCodes(1, bits, 7);
        expect(index.search(q, 5)).toEqual([]);
        const model = new Map<number, Uint8Array>();
        load(index, model, [5, 3, 9], randomCodes(3, bits, 8));
        expect(index.search(q, 0)).toEqual([]);
        expect(index.searchIds(q, 0)).toHaveLength(0);
        expect(index.search(q, 100)).toEqual(bruteForce(model, q, 3));
        expect(index.search(q, 100)).toHaveLength(3);
        expect(Array.from(index.searchIds(q, 100))).toEqual(bruteForce(model, q, 3).map((hit) => hit.id));
      });

      it('applies filters inside the search: rejected ids do not count toward k', () => {
        const index = make(bits);
        const model = new Map<number, Uint8Array>();
        load(index, model, sparseIds(300, 9), clusteredCodes(300, bits, 10, 3, 10));
        const queries = randomCodes(6, bits, 11);
        expectAllMatch(index, model, queries, [1, 10], (id) => id % 3 === 0);
        expectAllMatch(index, model, queries, [5], () => false);
        const calls = new Map<number, number>();
        index.search(queries.subarray(0, bytes), 300, { filter: (id) => (calls.set(id, (calls.get(id) ?? 0) + 1), true) });
        expect(Math.max(...calls.values())).toBe(1);
        expect(calls.size).toBe(300);
      });

      it('forgets removed ids and accepts them again', () => {
        const index = make(bits);
        const model = new Map<number, Uint8Array>();
        const ids = sparseIds(300, 12);
        load(index, model, ids, clusteredCodes(300, bits, 20, 4, 13));
        for (const id of ids.slice(0, 200)) {
          expect(index.remove(id)).toBe(true);
          model.delete(id);
        }
        expect(index.remove(ids[0])).toBe(false);
        expect(index.remove(123)).toBe(false);
        expect(index.size).toBe(100);
        const queries = randomCodes(6, bits, 14);
        expectAllMatch(index, model, queries, [1, 10, 150]);
        load(index, model, ids.slice(0, 50), randomCodes(50, bits, 15));
        expect(index.size).toBe(150);
        expectAllMatch(index, model, queries, [1, 10]);
        for (const id of [...model.keys()]) index.remove(id);
        expect(index.size).toBe(0);
        expect(index.search(queries.subarray(0, bytes), 3)).toEqual([]);
      });

      it('stays exact across many small adds and removes', () => {
        const index = make(bits);
        const model = new Map<number, Uint8Array>();
        const next = rng(16);
        const queries = randomCodes(3, bits, 17);
        for (let round = 0; round < 20; round++) {
          const n = 1 + (next() % 40);
          const ids = Array.from({ length: n }, (_, i) => round * 100 + i);
          load(index, model, ids, clusteredCodes(n, bits, 4, 6, 100 + round));
          for (const id of [...model.keys()])
            if (next() % 5 === 0) {
              index.remove(id);
              model.delete(id);
            }
          expectAllMatch(index, model, queries, [4]);
        }
        expect(index.size).toBe(model.size);
      });

      it('rejects bad arguments and leaves the index unchanged', () => {
        const index = make(bits);
        index.add([1, 2], randomCodes(2, bits, 18));
        const one = randomCodes(1, bits, 19);
        expect(() => index.add([3], new Uint8Array(bytes - 1))).toThrow(/bytes/);
        expect(() => index.add([3, 4], one)).toThrow(/bytes/);
        expect(() => index.add([3, 2], randomCodes(2, bits, 20))).toThrow(/already/);
        expect(() => index.add([5, 5], randomCodes(2, bits, 21))).toThrow(/already/);
        expect(() => index.add([-1], one)).toThrow(/uint32/);
        expect(() => index.add([2 ** 32], one)).toThrow(/uint32/);
        expect(() => index.add([1.5], one)).toThrow(/uint32/);
        expect(() => index.search(one, -1)).toThrow(/k must/);
        expect(() => index.search(one, 1.5)).toThrow(/k must/);
        expect(() => index.search(new Uint8Array(bytes + 1), 1)).toThrow(/Query/);
        expect(index.size).toBe(2);
        index.add([3, 5], randomCodes(2, bits, 22));
        expect(index.size).toBe(4);
      });

      it('counts searches and distance computations', () => {
        const index = make(bits);
        index.add([1, 2, 3], randomCodes(3, bits, 23));
        expect(index.memoryBytes).toBeGreaterThanOrEqual((3 * bits) / 8);
        index.resetStats();
        index.search(randomCodes(1, bits, 24), 3);
        expect(index.stats.searches).toBe(1);
        // Every code's distance was computed at least once (MIH verifies a code once per
        // table it is fetched from, so it may count a code more than once).
        expect(index.stats.codesScanned).toBeGreaterThanOrEqual(3);
        expect(index.stats.codesScanned).toBeLessThanOrEqual(3 + index.stats.candidatesChecked);
        index.resetStats();
        expect(index.stats).toEqual({ searches: 0, codesScanned: 0, candidatesChecked: 0, bucketsProbed: 0 });
      });
    });
  });
}
