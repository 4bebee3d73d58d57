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
    index.add(Array.from({ length: 9000 }, (_, i) => i), randomCodes(9000, 64, 1));
    index.search(randomCodes(1, 64, 2), 10);
    expect(index.stats).toMatchObject({ searches: 1, codesScanned: 9000, bucketsProbed: 0 });
    // Only the first chunk passes the threshold wholesale; later chunks are pruned.
    expect(index.stats.candidatesChecked).toBeLessThan(6000);
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
      const self = codes.subarray((q * 997) * bytes, (q * 997 + 1) * bytes);
      expect(wasm.search(self, 3)).toEqual(js.search(self, 3));
    }
  });
});
