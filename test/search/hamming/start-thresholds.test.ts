import { LinearScanIndex } from '../../../src/search/hamming/linear-scan';
import { START_FROM, START_FROM_K, StartThresholds } from '../../../src/search/hamming/start-thresholds';
import { CoarseListIndex } from '../../../src/search/coarse-lists';
import { SeededRandom } from '../../../src/search/hasher/seeded-random';
import { bruteForce, clusteredCodes, nearbyQueries, randomCodes, vectorOfId } from './codes';

describe('StartThresholds', () => {
  it('starts a shape at the largest of its last `window` k-th distances, and not before it has seen that many', () => {
    const starts = new StartThresholds(4, 64, 0);
    for (const kth of [30, 31, 29]) starts.record(7, kth);
    expect(starts.start(7)).toBeUndefined();
    starts.record(7, 28);
    expect(starts.start(7)).toBe(31);
    starts.record(7, 20); // 30 leaves the window
    starts.record(7, 20); // 31 leaves it
    expect(starts.start(7)).toBe(29);
    expect(starts.start(8)).toBeUndefined();
    expect(starts.started).toBe(2);
  });

  it('adds its margin to that largest', () => {
    const starts = new StartThresholds(2, 64, 3);
    starts.record(1, 10);
    starts.record(1, 12);
    expect(starts.start(1)).toBe(15);
  });

  it('forgets every shape once more than `shapes` are remembered (callers choose k)', () => {
    const starts = new StartThresholds(1, 2, 0);
    starts.record(1, 5);
    starts.record(2, 6);
    expect([starts.start(1), starts.start(2)]).toEqual([5, 6]);
    starts.record(3, 7);
    expect([starts.start(1), starts.start(2), starts.start(3)]).toEqual([undefined, undefined, 7]);
  });
});

// Scans of at least START_FROM codes start at a recent k-th distance. Near queries (whose
// k-th distance is small) come first, so the starts are low; a far one, whose k-th distance
// is above every start, is then a miss and is scanned again. Every answer must be the exact
// one all the same. (k stays within a near query's cluster of
// about 50 codes: beyond it, its k-th distance is a random code's, as a far query's is.)
describe('scans from a recent k-th distance', () => {
  const bits = 128;
  const bytes = bits / 8;
  const n = START_FROM + 4_000;
  // About 250 codes around each of 80 centres, each at most 12 bits from it.
  const codes = clusteredCodes(n, bits, 80, 12, 11);
  const ids = Array.from({ length: n }, (_, i) => i * 3 + 1);
  const model = new Map(ids.map((id, i) => [id, codes.slice(i * bytes, (i + 1) * bytes)]));
  const near = nearbyQueries(codes, bits, 40, 6, 12);
  const far = randomCodes(8, bits, 13);
  /** 20 near queries, a far one, 17 near ones (the far one's k-th distance leaves the
   *  window), and another far one. */
  const nearAt = (q: number) => near.subarray(q * bytes, (q + 1) * bytes);
  const queries = [
    ...Array.from({ length: 20 }, (_, q) => nearAt(q)),
    far.subarray(0, bytes),
    ...Array.from({ length: 17 }, (_, q) => nearAt(20 + q)),
    far.subarray(bytes, 2 * bytes),
  ];

  it.each([START_FROM_K, 100])('a linear scan (k = %i) gives the exact k-NN whether its start holds or misses', (k) => {
    const index = new LinearScanIndex(bits);
    index.add(ids, codes);
    const handedBack: number[] = [];
    for (const query of queries) {
      const before = index.stats.candidatesChecked;
      expect(index.search(query, k)).toEqual(bruteForce(model, query, k));
      handedBack.push(index.stats.candidatesChecked - before);
    }
    expect(index.starts.started).toBeGreaterThanOrEqual(queries.length - 16);
    expect(index.starts.missed).toBeGreaterThanOrEqual(2);
    expect(index.stats.codesScanned).toBe((queries.length + index.starts.missed) * n);
    // Near queries started low hand back fewer codes than those that started at the length.
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(handedBack.slice(16, 20))).toBeLessThan(0.7 * mean(handedBack.slice(0, 16)));
  });

  it('a filtered scan, one of fewer codes, or one for fewer than START_FROM_K starts at the code length', () => {
    const small = new LinearScanIndex(bits);
    small.add(ids.slice(0, START_FROM - 1), codes.subarray(0, (START_FROM - 1) * bytes));
    const filtered = new LinearScanIndex(bits);
    filtered.add(ids, codes);
    const few = new LinearScanIndex(bits);
    few.add(ids, codes);
    for (const query of queries.slice(0, 20)) {
      small.search(query, 50);
      filtered.search(query, 50, { filter: (id) => id % 2 === 1 });
      few.search(query, START_FROM_K - 1);
    }
    expect([small.starts.started, filtered.starts.started, few.starts.started]).toEqual([0, 0, 0]);
  });

  it('coarse lists give the exact k-NN of the lists they probe, whether the start holds or misses', () => {
    const lists = 4;
    const rng = new SeededRandom(14);
    const centroids = Float32Array.from({ length: lists * 4 }, () => rng.gaussian() * 0.5);
    const index = new CoarseListIndex(bits, centroids, 4, vectorOfId, 3);
    // Twice the codes: the 3 lists probed of 4 then hold at least START_FROM.
    const more = clusteredCodes(n, bits, 80, 12, 15);
    const moreIds = ids.map((id) => id + 1);
    index.add(ids, codes);
    index.add(moreIds, more);
    const all = new Map([...model, ...moreIds.map((id, i) => [id, more.slice(i * bytes, (i + 1) * bytes)] as const)]);
    const listOf = new Map([...ids, ...moreIds].map((id) => [id, index.listOfId(id)]));
    for (const [q, query] of queries.entries()) {
      const vector = new Float32Array(4);
      vectorOfId(5_000_000 + (q % 3), vector);
      const [nearDistances] = index.distancesOf([vector]);
      const probed = new Set(
        Array.from({ length: lists }, (_, c) => c)
          .sort((a, b) => nearDistances[a] - nearDistances[b] || a - b)
          .slice(0, 3),
      );
      expect(index.search(query, 50, { nearDistances })).toEqual(bruteForce(all, query, 50, (id) => probed.has(listOf.get(id)!)));
    }
    expect(index.starts.started).toBeGreaterThan(0);
    expect(index.starts.missed).toBeGreaterThan(0);
  });
});
