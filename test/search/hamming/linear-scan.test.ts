import { LinearScanIndex } from '../../../src/search/hamming/linear-scan';
import { KERNELS } from '../../../src/search/hamming/scan-kernels';
import { randomCodes } from './codes';
import { runHammingContract } from './contract';

// The same suite for each kernel, as FAISS does per SIMD level.
for (const kernel of KERNELS) {
  runHammingContract(`LinearScanIndex (${kernel} kernel)`, (bits) => new LinearScanIndex(bits, { kernel }));
}

describe('LinearScanIndex', () => {
  it('computes every distance once per search and probes no buckets', () => {
    const index = new LinearScanIndex(64);
    index.add(
      Array.from({ length: 9000 }, (_, i) => i),
      randomCodes(9000, 64, 1),
    );
    index.search(randomCodes(1, 64, 2), 10);
    expect(index.stats).toMatchObject({ searches: 1, codesScanned: 9000, bucketsProbed: 0 });
    // The kernel lowers its own threshold as it goes: only codes that were among the 10
    // best so far (about 10 ln(9000/10) ~ 70, plus ties) come back to JS.
    expect(index.stats.candidatesChecked).toBeLessThan(500);
  });

  it('with a filter, leaves the threshold to the JS top k (rejected ids must not prune)', () => {
    const index = new LinearScanIndex(64);
    index.add(
      Array.from({ length: 9000 }, (_, i) => i),
      randomCodes(9000, 64, 1),
    );
    const hits = index.search(randomCodes(1, 64, 2), 10, { filter: (id) => id % 2 === 0 });
    expect(hits).toHaveLength(10);
    expect(hits.every((h) => h.id % 2 === 0)).toBe(true);
    // A whole first chunk (all 9000 codes fit in one) is emitted at the initial threshold.
    expect(index.stats.candidatesChecked).toBe(9000);
  });

  // 10 001 codes: two full 4096-code chunks, a ragged last chunk, and a count that is not
  // a multiple of the WASM kernel's 8-code groups.
  it.each([64, 128, 256])('gives identical answers with both kernels across chunk boundaries (%i bits)', (bits) => {
    const n = 10_001;
    const bytes = bits / 8;
    const codes = randomCodes(n, bits, 3);
    const ids = Array.from({ length: n }, (_, i) => n - i);
    const [js, wasm] = KERNELS.map((kernel) => new LinearScanIndex(bits, { kernel }));
    js.add(ids, codes);
    wasm.add(ids, codes);
    const queries = randomCodes(10, bits, 4);
    for (let q = 0; q < 10; q++) {
      const query = queries.subarray(q * bytes, (q + 1) * bytes);
      expect(wasm.search(query, 25)).toEqual(js.search(query, 25));
      // A data code as query: distance 0 must be found wherever it sits in a group.
      const self = codes.subarray(q * 997 * bytes, (q * 997 + 1) * bytes);
      expect(wasm.search(self, 3)).toEqual(js.search(self, 3));
    }
  });
});
