import { CHOOSE_RULE, chooseHammingIndex, makeHammingIndex } from '../../../src/search/hamming/choose';
import { LinearScanIndex } from '../../../src/search/hamming/linear-scan';
import { MultiIndexHashing } from '../../../src/search/hamming/mih';
import { chooseM } from '../../../src/search/hamming/mih-tables';

describe('chooseM (Norouzi et al.: m ~ bits / log2 n)', () => {
  it.each([
    [100_000, 64, 4],
    [1_000_000, 64, 3],
    [10_000_000, 64, 3],
    [1_000_000, 128, 6],
    [10_000_000, 128, 6],
    [1_000_000, 256, 13],
    [10_000_000, 256, 11],
  ])('n = %i, %i bits -> m = %i', (n, bits, m) => {
    expect(chooseM(n, bits)).toBe(m);
  });

  it('keeps substrings between 4 and 32 bits', () => {
    expect(chooseM(0, 64)).toBe(16);
    expect(chooseM(10, 256)).toBe(64);
    expect(chooseM(2 ** 40, 64)).toBe(2);
    expect(chooseM(2 ** 40, 256)).toBe(8);
  });
});

describe('chooseHammingIndex', () => {
  it('picks the scan below the measured threshold and MIH from it on', () => {
    for (const bits of [64, 128, 256] as const) {
      const min = CHOOSE_RULE[bits].mihFrom;
      expect(chooseHammingIndex(1000, bits).kind).toBe('scan');
      if (Number.isFinite(min)) {
        expect(chooseHammingIndex(min - 1, bits).kind).toBe('scan');
        expect(chooseHammingIndex(min, bits).kind).toBe('mih');
      } else {
        expect(chooseHammingIndex(1e9, bits).kind).toBe('scan');
      }
    }
  });

  it('chooses MIH for 10 M 64-bit codes, where it was measured >= 4x the C scan', () => {
    expect(chooseHammingIndex(10_000_000, 64).kind).toBe('mih');
    expect(chooseHammingIndex(1_000_000, 64).kind).toBe('scan');
  });

  it('keeps the scan when many neighbours are wanted (MIH lost at k = 50 and 200)', () => {
    expect(chooseHammingIndex(10_000_000, 64, 10).kind).toBe('mih');
    expect(chooseHammingIndex(10_000_000, 64, 11).kind).toBe('scan');
    expect(chooseHammingIndex(10_000_000, 64, 200).kind).toBe('scan');
    expect(makeHammingIndex(10_000_000, 64, 200)).toBeInstanceOf(LinearScanIndex);
  });

  it('builds the engine it chose', () => {
    expect(makeHammingIndex(10, 64)).toBeInstanceOf(LinearScanIndex);
    expect(makeHammingIndex(CHOOSE_RULE[64].mihFrom, 64)).toBeInstanceOf(MultiIndexHashing);
  });
});
