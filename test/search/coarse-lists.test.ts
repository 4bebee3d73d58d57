import { CoarseListIndex, centroidTraining, trainCentroids } from '../../src/search/coarse-lists';
import { SeededRandom } from '../../src/search/hasher/seeded-random';
import type { CodeBits } from '../../src/search/hamming';
import { runHammingContract } from './hamming/contract';
import { bruteForce, clusteredCodes, vectorOfId } from './hamming/codes';

const DIMS = 4;

function randomCentroids(lists: number, seed: number, dims = DIMS): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: lists * dims }, () => rng.gaussian() * 0.5);
}

// Without a query vector every list is scanned: the exact k-NN, as every engine gives.
runHammingContract('CoarseListIndex (every list scanned)', (bits) => new CoarseListIndex(bits, randomCentroids(8, 1), DIMS, vectorOfId, 2));
// Vectors whose length is not a multiple of 4 are compared with the centroids in JS, not SIMD.
runHammingContract('CoarseListIndex (3-d vectors)', (bits) => new CoarseListIndex(bits, randomCentroids(8, 1, 3), 3, vectorOfId, 8));
runHammingContract('CoarseListIndex (one list)', (bits) => new CoarseListIndex(bits, randomCentroids(1, 2), DIMS, vectorOfId, 1));

describe('CoarseListIndex', () => {
  const bits: CodeBits = 64;

  function filled(n: number, lists: number, probe: number) {
    const index = new CoarseListIndex(bits, randomCentroids(lists, 3), DIMS, vectorOfId, probe);
    const codes = clusteredCodes(n, bits, 20, 6, 4);
    const ids = Array.from({ length: n }, (_, i) => i * 7 + 1);
    index.add(ids, codes);
    const model = new Map(ids.map((id, i) => [id, codes.slice(i * 8, (i + 1) * 8)]));
    return { index, model, codes };
  }

  function listOfId(index: CoarseListIndex, id: number): number {
    const v = new Float32Array(DIMS);
    vectorOfId(id, v);
    return index.listOf(v);
  }

  it('with a query vector, answers the exact k-NN of the probed lists: the nearest centroids to it', () => {
    const { index, model, codes } = filled(3000, 16, 3);
    const centroids = randomCentroids(16, 3);
    for (let q = 0; q < 20; q++) {
      const near = new Float32Array(DIMS);
      vectorOfId(1_000_000 + q, near);
      const byDistance = Array.from({ length: 16 }, (_, c) => c).sort(
        (a, b) => distance(near, centroids, a) - distance(near, centroids, b) || a - b,
      );
      const probed = new Set(byDistance.slice(0, 3));
      const query = codes.subarray(q * 8 * 50, q * 8 * 50 + 8);
      const expected = bruteForce(model, query, 25, (id) => probed.has(listOfId(index, id)));
      expect(index.search(query, 25, { near })).toEqual(expected);
      // The same lists when the distances come from a batch (any position in it).
      const batch = index.distancesOf([new Float32Array(DIMS).fill(q), near, new Float32Array(DIMS).fill(-1), near, near]);
      for (const nearDistances of [batch[1], batch[3], batch[4]]) expect(index.search(query, 25, { nearDistances })).toEqual(expected);
    }
    expect(index.stats.bucketsProbed).toBe(20 * 3 * 4);
  });

  it('with probeScale, scans that share of its probed lists (the nearest of them, at least one)', () => {
    const { index, model, codes } = filled(3000, 16, 8);
    const centroids = randomCentroids(16, 3);
    for (const [scale, lists] of [
      [0.25, 2],
      [0.5, 4],
      [0.01, 1],
    ]) {
      const near = new Float32Array(DIMS);
      vectorOfId(2_000_000 + lists, near);
      const byDistance = Array.from({ length: 16 }, (_, c) => c).sort(
        (a, b) => distance(near, centroids, a) - distance(near, centroids, b) || a - b,
      );
      const probed = new Set(byDistance.slice(0, lists));
      const query = codes.subarray(lists * 8 * 50, lists * 8 * 50 + 8);
      index.resetStats();
      expect(index.search(query, 10, { near, probeScale: scale })).toEqual(
        bruteForce(model, query, 10, (id) => probed.has(listOfId(index, id))),
      );
      expect(index.stats.bucketsProbed).toBe(lists);
    }
  });

  it('scans every list when the probe covers them all: the exact answer', () => {
    const { index, model, codes } = filled(2000, 8, 8);
    const near = new Float32Array(DIMS).fill(0.3);
    for (let q = 0; q < 10; q++) {
      const query = codes.subarray(q * 8 * 100, q * 8 * 100 + 8);
      expect(index.search(query, 30, { near })).toEqual(bruteForce(model, query, 30));
    }
  });

  it('stays exact while lists grow past their room, move and are closed up, and shrink', () => {
    // Two lists and many writes: each list moves several times and the holes are compacted.
    const index = new CoarseListIndex(bits, randomCentroids(2, 5), DIMS, vectorOfId, 2);
    const model = new Map<number, Uint8Array>();
    const rand = new SeededRandom(6);
    const pool = clusteredCodes(5000, bits, 10, 8, 7);
    let next = 0;
    for (let step = 0; step < 60; step++) {
      const adds = 10 + rand.int(150);
      const ids = Array.from({ length: adds }, () => next++);
      index.add(ids, pool.slice((ids[0] % 4000) * 8, ((ids[0] % 4000) + adds) * 8));
      ids.forEach((id, i) => model.set(id, pool.slice(((ids[0] % 4000) + i) * 8, ((ids[0] % 4000) + i + 1) * 8)));
      for (const id of [...model.keys()]) if (rand.int(3) === 0) expect(index.remove(id)).toBe(model.delete(id));
      expect(index.size).toBe(model.size);
      const query = pool.subarray(step * 8, step * 8 + 8);
      expect(index.search(query, 40)).toEqual(bruteForce(model, query, 40));
    }
    // The memory laid out stays within a small multiple of what is held.
    expect(index.memoryBytes).toBeLessThan(4 * 1024 * 1024);
  });

  it('makes the memory for a close-up ready while the holes grow from a fifth to a quarter, and closes up into it', () => {
    const index = new CoarseListIndex(bits, randomCentroids(8, 9), DIMS, vectorOfId, 8);
    type Spare = { kernel: { memoryBytes: number }; ids: Uint32Array; ready: number };
    const inner = index as unknown as {
      spare?: Spare;
      kernel: { memoryBytes: number };
      ids: Uint32Array;
      slots: { memoryBytes: number };
      holes: number;
      end: number;
    };
    // What memoryBytes counts besides the spare: the kernel, ids, id map, centroids and list columns.
    const lists = () => inner.kernel.memoryBytes + inner.ids.byteLength + inner.slots.memoryBytes + 8 * DIMS * 4 + 20 * 8;
    const model = new Map<number, Uint8Array>();
    const pool = clusteredCodes(30_000, bits, 10, 8, 7);
    const closeUps: Spare[] = [];
    for (let id = 0; id < 30_000; id++) {
      const before = inner.spare;
      const code = pool.slice(id * 8, id * 8 + 8);
      index.add([id], code);
      model.set(id, code);
      if (before && !inner.spare) {
        expect(inner.kernel).toBe(before.kernel);
        closeUps.push(before);
      }
      // Made only past a fifth of holes (a close-up leaves none); counted as it is touched.
      if (inner.spare && !before) expect(inner.holes).toBeGreaterThan(0.2 * inner.end);
      expect(index.memoryBytes - lists()).toBe(inner.spare ? inner.spare.ready * (bits / 8 + 4) : 0);
    }
    expect(closeUps.length).toBeGreaterThanOrEqual(3);
    // Each was touched (faulted in) all or nearly all the way before the close-up took it.
    for (const spare of closeUps) expect(spare.ready).toBeGreaterThan(0.9 * spare.ids.length);
    for (let q = 0; q < 10; q++) {
      const query = pool.subarray(q * 800, q * 800 + 8);
      expect(index.search(query, 30)).toEqual(bruteForce(model, query, 30));
    }
  });

  it('claims no id when a batch is refused: bad lists, a coarse vector that cannot be read, a bad probe scale', () => {
    const { index, codes } = filled(100, 4, 2);
    const code = codes.slice(0, 8);
    expect(() => index.add([5000], code, new Uint16Array([9]))).toThrow(RangeError);
    let failing = true;
    const flaky = new CoarseListIndex(
      bits,
      randomCentroids(4, 3),
      DIMS,
      (id, out) => {
        if (failing) throw new Error('no vector');
        vectorOfId(id, out);
      },
      2,
    );
    expect(() => flaky.add([7], code)).toThrow('no vector');
    failing = false;
    for (const target of [index, flaky]) {
      target.add([target === index ? 5000 : 7], code);
      expect(target.search(code, 1)[0].distance).toBe(0);
    }
    expect(flaky.size).toBe(1);
    for (const probeScale of [0, -1, 1.5, NaN])
      expect(() => index.search(code, 1, { near: new Float32Array(DIMS), probeScale })).toThrow(RangeError);
  });

  it('laid out beforehand for the sizes listsOf counts, is filled batch by batch without growing, and stays exact', () => {
    const n = 20_000;
    const lists = 16;
    const index = new CoarseListIndex(bits, randomCentroids(lists, 3), DIMS, vectorOfId, lists);
    const ids = Array.from({ length: n }, (_, i) => i);
    const codes = clusteredCodes(n, bits, 20, 6, 4);
    const listOf = index.listsOf(ids, new Uint16Array(n));
    const sizes = new Int32Array(lists);
    listOf.forEach((list) => sizes[list]++);
    index.presize(sizes);
    const laidOut = index.memoryBytes;
    for (let at = 0; at < n; at += 500) index.add(ids.slice(at, at + 500), codes.slice(at * 8, (at + 500) * 8), listOf.slice(at, at + 500));
    // What grew is the id -> slot map (4 bytes an id, grown by half while small), not the lists.
    expect(index.memoryBytes).toBeLessThanOrEqual(laidOut + n * 4 * 1.5);
    ids.forEach((id) => expect(index.listOfId(id)).toBe(listOf[id]));
    const model = new Map(ids.map((id) => [id, codes.slice(id * 8, id * 8 + 8)]));
    const query = codes.subarray(0, 8);
    expect(index.search(query, 30)).toEqual(bruteForce(model, query, 30));
    expect(() => index.presize(sizes)).toThrow(/empty/);
  });

  it('filled at once, lays out an eighth more than it holds and reserves no more', () => {
    const n = 200_000;
    const lists = 64;
    const empty = new CoarseListIndex(bits, randomCentroids(lists, 3), DIMS, vectorOfId, 4).memoryBytes;
    const index = new CoarseListIndex(bits, randomCentroids(lists, 3), DIMS, vectorOfId, 4);
    index.add(
      Array.from({ length: n }, (_, i) => i),
      clusteredCodes(n, bits, 20, 6, 4),
    );
    // Per code: 8 bytes of code and 4 of id, an eighth more for room; 4 of id -> slot (grown
    // by 1/8 too); and at most a page and a list's rounding besides.
    const bound = empty + n * (12 * 1.125 + 4 * 1.125) + 65536 + lists * 12;
    expect(index.memoryBytes).toBeLessThan(bound);
    expect(index.memoryBytes).toBeGreaterThan(n * 12 * 1.125);
    // A second batch as large is laid out again with the first at once: exactly, no holes.
    index.add(
      Array.from({ length: n }, (_, i) => n + i),
      clusteredCodes(n, bits, 20, 6, 5),
    );
    expect(index.size).toBe(2 * n);
    expect(index.memoryBytes).toBeLessThan(empty + 2 * n * (12 * 1.125 + 4 * 1.125) + 65536 + lists * 12);
  });
});

describe('CoarseListIndex with skewed batches', () => {
  // Four lists at the unit axes, id's list = id % 4: batches that bring one list many codes
  // while others have holes make a compaction happen in the middle of an add.
  const LISTS = 4;
  const axes = new Float32Array(LISTS * DIMS);
  for (let c = 0; c < LISTS; c++) axes[c * DIMS + c] = 1;
  const byId = (id: number, out: Float32Array) => {
    out.fill(0);
    out[id % LISTS] = 1;
  };

  it.each(Array.from({ length: 30 }, (_, i) => i + 1))('stays exact when a batch closes up the holes mid-add (seed %i)', (seed) => {
    const rng = new SeededRandom(seed);
    const index = new CoarseListIndex(64, axes, DIMS, byId, LISTS);
    const model = new Map<number, Uint8Array>();
    let next = 0;
    for (let step = 0; step < 40; step++) {
      const ids: number[] = [];
      for (let c = 0; c < LISTS; c++) {
        const n = rng.int(3) === 0 ? rng.int(60) : rng.int(4);
        for (let i = 0; i < n; i++) {
          while (next % LISTS !== c) next++;
          ids.push(next++);
        }
      }
      const codes = Uint8Array.from({ length: ids.length * 8 }, () => rng.int(256));
      index.add(ids, codes);
      ids.forEach((id, i) => model.set(id, codes.slice(i * 8, i * 8 + 8)));
      for (const id of [...model.keys()]) if (rng.int(4) === 0) expect(index.remove(id)).toBe(model.delete(id));
      // Every code is still known to be in its own list, wherever moves and compactions put it.
      for (const id of model.keys()) expect(index.listOfId(id)).toBe(id % LISTS);
      const query = Uint8Array.from({ length: 8 }, () => rng.int(256));
      expect(index.search(query, model.size)).toEqual(bruteForce(model, query, model.size));
    }
  });

  it('scans lists past the probed ones until k candidates pass the filter', () => {
    const index = new CoarseListIndex(64, axes, DIMS, byId, 1);
    const codes = clusteredCodes(400, 64, 5, 6, 9);
    const ids = Array.from({ length: 400 }, (_, i) => i);
    index.add(ids, codes);
    const model = new Map(ids.map((id) => [id, codes.slice(id * 8, id * 8 + 8)]));
    const near = Float32Array.of(1, 0, 0, 0); // list 0 is probed
    const query = codes.subarray(0, 8);
    // Only ids of lists 2 and 3 pass: lists 0 and 1 give nothing, the next nearest (list 2;
    // 1, 2 and 3 are equally far, taken in order) gives 20, and list 3 is not scanned.
    const filter = (id: number) => id % LISTS >= 2;
    const hits = index.search(query, 20, { near, filter });
    expect(hits).toHaveLength(20);
    expect(hits).toEqual(bruteForce(model, query, 20, (id) => id % LISTS === 2));
    expect(index.stats.bucketsProbed).toBe(3);
    // Unfiltered, the probed list alone holds 20 codes: nothing else is scanned.
    index.resetStats();
    expect(index.stats.bucketsProbed).toBe(0);
    expect(index.search(query, 20, { near }).every((h) => h.id % LISTS === 0)).toBe(true);
    expect(index.stats.bucketsProbed).toBe(1);
  });
});

describe('trainCentroids', () => {
  const centres = [
    [5, 0, 0, 0],
    [0, 5, 0, 0],
    [0, 0, 5, 0],
    [0, 0, 0, 5],
  ];
  function points(n: number, seed: number): Float32Array {
    const rng = new SeededRandom(seed);
    const out = new Float32Array(n * DIMS);
    for (let i = 0; i < n; i++) for (let j = 0; j < DIMS; j++) out[i * DIMS + j] = centres[i % 4][j] + 0.3 * rng.gaussian();
    return out;
  }
  const at = (v: Float32Array) => (i: number, out: Float32Array) => out.set(v.subarray(i * DIMS, (i + 1) * DIMS));

  it('finds well-separated clusters, one centroid each', () => {
    const v = points(2000, 1);
    const centroids = trainCentroids(2000, at(v), DIMS, 4, new SeededRandom(2));
    const nearestCentroid = centres.map((c) => {
      let best = 0;
      for (let k = 1; k < 4; k++)
        if (distance(Float32Array.from(c), centroids, k) < distance(Float32Array.from(c), centroids, best)) best = k;
      return { best, d: distance(Float32Array.from(c), centroids, best) };
    });
    expect(new Set(nearestCentroid.map((x) => x.best)).size).toBe(4);
    for (const x of nearestCentroid) expect(Math.sqrt(x.d)).toBeLessThan(0.2);
  });

  it('is deterministic for a seed, and trains on a bounded sample', () => {
    const v = points(5000, 3);
    const read: number[] = [];
    const a = trainCentroids(5000, (i, out) => (read.push(i), at(v)(i, out)), DIMS, 4, new SeededRandom(9), 10, 16);
    const b = trainCentroids(5000, at(v), DIMS, 4, new SeededRandom(9), 10, 16);
    expect(a).toEqual(b);
    expect(read.length).toBe(4 * 16);
    expect(new Set(read).size).toBe(read.length);
  });

  it('in steps (centroidTraining) gives the same centroids, reads the sample at the first step only, and steps within a round of a large sample', () => {
    const v = points(40_000, 5);
    const read: number[] = [];
    const steps = centroidTraining(40_000, (i, out) => (read.push(i), at(v)(i, out)), DIMS, 512, new SeededRandom(4), 3, 64);
    let taken = 0;
    let result: IteratorResult<void, Float32Array>;
    while (!(result = steps.next()).done) {
      taken++;
      if (taken === 1) expect(read.length).toBe(32_768); // 512 lists × 64
    }
    expect(read.length).toBe(32_768);
    // 3 rounds of 32,768 vectors, 8,192 a step: 4 steps a round.
    expect(taken).toBe(3 * 4);
    expect(result.value).toEqual(trainCentroids(40_000, at(v), DIMS, 512, new SeededRandom(4), 3, 64));
  });
});

function distance(v: Float32Array, centroids: Float32Array, c: number): number {
  let s = 0;
  for (let j = 0; j < DIMS; j++) s += (v[j] - centroids[c * DIMS + j]) ** 2;
  return s;
}
