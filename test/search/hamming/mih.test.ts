import { LinearScanIndex } from '../../../src/search/hamming/linear-scan';
import { ENTRY_COST, MultiIndexHashing } from '../../../src/search/hamming/mih';
import { bernoulliClustered, bruteForce, clusteredCodes, nearbyQueries, randomCodes } from './codes';
import { runHammingContract } from './contract';

// Test data is small, so the default scan fallback would answer most searches; the probing
// variants disable it to test the stopping rule. They cover the default split, an uneven
// split (substrings straddle 32-bit words and have unequal lengths), and a tail that is
// never folded in (pendingFraction 4: searches mix tables and tail).
const probeOnly = { scanFallback: Infinity };
runHammingContract('MultiIndexHashing (m from n)', (bits) => new MultiIndexHashing(bits, probeOnly));
runHammingContract('MultiIndexHashing (uneven m)', (bits) => new MultiIndexHashing(bits, { ...probeOnly, m: bits / 16 + 3 }));
runHammingContract('MultiIndexHashing (lazy rebuild)', (bits) => new MultiIndexHashing(bits, { ...probeOnly, pendingFraction: 4 }));
// Defaults: on this small data nearly every search ends in the kernel scan fallback.
// (Both kernels pass the same suite in linear-scan.test.ts.)
runHammingContract('MultiIndexHashing (defaults, scan fallback)', (bits) => new MultiIndexHashing(bits));

describe('MultiIndexHashing', () => {
  it('prunes: on clustered codes it computes a small fraction of the distances a scan does', () => {
    const n = 100_000;
    const codes = clusteredCodes(n, 64, 1000, 4, 1);
    const ids = Array.from({ length: n }, (_, i) => i);
    // Fallback off: this pins what probing alone costs.
    const mih = new MultiIndexHashing(64, { scanFallback: Infinity });
    const scan = new LinearScanIndex(64);
    mih.add(ids, codes);
    scan.add(ids, codes);
    const queries = nearbyQueries(codes, 64, 50, 3, 2);
    for (let q = 0; q < 50; q++) {
      const query = queries.subarray(q * 8, (q + 1) * 8);
      expect(mih.search(query, 10)).toEqual(scan.search(query, 10));
    }
    const { searches, codesScanned, bucketsProbed, candidatesChecked } = mih.stats;
    expect(searches).toBe(50);
    expect(codesScanned / searches).toBeLessThan(n / 50);
    expect(candidatesChecked).toBeGreaterThanOrEqual(codesScanned);
    // Radius 0 and 1 in 4 tables of 16 bits is 4 * (1 + 16) buckets; clustered queries
    // should rarely need radius 2.
    expect(bucketsProbed / searches).toBeLessThan(4 * (1 + 16 + 120));
    // Each scan once, and again where its start missed (see StartThresholds).
    expect(scan.stats.codesScanned).toBe((50 + scan.starts.missed) * n);
  });

  it('finds distant neighbours exactly when only far codes exist', () => {
    const mih = new MultiIndexHashing(64, { scanFallback: Infinity });
    const scan = new LinearScanIndex(64);
    const codes = randomCodes(3000, 64, 3);
    const ids = Array.from({ length: 3000 }, (_, i) => i);
    mih.add(ids, codes);
    scan.add(ids, codes);
    const queries = randomCodes(10, 64, 4);
    for (let q = 0; q < 10; q++) {
      const query = queries.subarray(q * 8, (q + 1) * 8);
      expect(mih.search(query, 10)).toEqual(scan.search(query, 10));
    }
  });

  it('falls back to one scan when probing would cost more (uniform 256-bit codes)', () => {
    const n = 20_000;
    const codes = randomCodes(n, 256, 5);
    const ids = Array.from({ length: n }, (_, i) => i);
    const mih = new MultiIndexHashing(256);
    const scan = new LinearScanIndex(256);
    mih.add(ids, codes);
    scan.add(ids, codes);
    const queries = randomCodes(5, 256, 6);
    for (let q = 0; q < 5; q++) {
      const query = queries.subarray(q * 32, (q + 1) * 32);
      expect(mih.search(query, 10)).toEqual(scan.search(query, 10));
    }
    // Probing stopped early (few entries fetched) and the kernel scanned every code once.
    expect(mih.stats.codesScanned).toBeGreaterThanOrEqual(5 * n);
    expect(mih.stats.codesScanned).toBeLessThan(5 * n + mih.stats.candidatesChecked + 1);
    // Each search stops probing before its cost (ENTRY_COST per entry) passes n / 2.
    expect(mih.stats.candidatesChecked).toBeLessThanOrEqual((5 * n) / 2 / ENTRY_COST);
  });

  it('rejects substrings longer than 32 bits', () => {
    expect(() => new MultiIndexHashing(64, { m: 1 })).toThrow(/m must/);
    expect(() => new MultiIndexHashing(128, { m: 3 })).toThrow(/m must/);
    expect(new MultiIndexHashing(64, { m: 2 }).substrings.map((s) => s.len)).toEqual([32, 32]);
    expect(() => new MultiIndexHashing(64, { m: 65 })).toThrow(/m must/);
    expect(() => new MultiIndexHashing(64, { scanFallback: 0 })).toThrow(/scanFallback/);
    expect(() => new MultiIndexHashing(64, { pendingFraction: -1 })).toThrow(/pendingFraction/);
    expect(new MultiIndexHashing(64, { m: 5 }).substrings.map((s) => s.len)).toEqual([13, 13, 13, 13, 12]);
  });

  it('chooses m from the number of codes at each rebuild unless m is given', () => {
    const mih = new MultiIndexHashing(64);
    mih.add(
      Array.from({ length: 1000 }, (_, i) => i),
      randomCodes(1000, 64, 7),
    );
    expect(mih.m).toBe(6); // 64 / log2(1000) = 6.4
    mih.add(
      Array.from({ length: 99_000 }, (_, i) => 1000 + i),
      randomCodes(99_000, 64, 8),
    );
    expect(mih.m).toBe(4); // 64 / log2(100 000) = 3.9
    expect(mih.substrings.map((s) => s.len)).toEqual([16, 16, 16, 16]);
    const fixed = new MultiIndexHashing(64, { m: 5 });
    fixed.add(
      Array.from({ length: 1000 }, (_, i) => i),
      randomCodes(1000, 64, 7),
    );
    expect(fixed.m).toBe(5);
  });

  // The shared yardstick's data model: every bit flipped with p = 20/256 around n/50
  // centres, so many codes tie at the 10th distance; ids and ties must match brute force.
  it.each([64, 128, 256])('matches brute force on Bernoulli-clustered codes with ties (%i bits)', (bits) => {
    const n = 20_000;
    const bytes = bits / 8;
    const codes = bernoulliClustered(n, bits, 20 / 256, bits);
    const model = new Map<number, Uint8Array>();
    const ids = Array.from({ length: n }, (_, i) => (i * 7919) % 1_000_003);
    ids.forEach((id, i) => model.set(id, codes.subarray(i * bytes, (i + 1) * bytes)));
    const queries = nearbyQueries(codes, bits, 20, bits / 8, 99);
    for (const opts of [{}, probeOnly, { ...probeOnly, m: 2 * (bits / 32) }]) {
      const mih = new MultiIndexHashing(bits, opts);
      mih.add(ids, codes);
      let tiesAtK = 0;
      for (let q = 0; q < 20; q++) {
        const query = queries.subarray(q * bytes, (q + 1) * bytes);
        const want = bruteForce(model, query, 10);
        const all = bruteForce(model, query, 11);
        if (all[10].distance === all[9].distance) tiesAtK++;
        expect(mih.search(query, 10)).toEqual(want);
      }
      expect(tiesAtK).toBeGreaterThan(0);
    }
  });

  it('resumes a probe whose hits overflow the kernel output (k beyond one call)', () => {
    // 40 000 codes in two buckets of every table: with k = 30 000 every fetched entry is a
    // hit until k are held, more than one kernel call can return.
    const n = 40_000;
    const a = randomCodes(1, 64, 11);
    const b = randomCodes(1, 64, 12);
    const codes = new Uint8Array(n * 8);
    for (let i = 0; i < n; i++) codes.set(i % 3 === 0 ? b : a, i * 8);
    const ids = Array.from({ length: n }, (_, i) => n - i);
    const mih = new MultiIndexHashing(64, probeOnly);
    const scan = new LinearScanIndex(64);
    mih.add(ids, codes);
    scan.add(ids, codes);
    expect(mih.search(a, 30_000)).toEqual(scan.search(a, 30_000));
    expect(mih.search(b, 20_000)).toEqual(scan.search(b, 20_000));
  });
});
