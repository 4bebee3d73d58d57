/** Bit layout, determinism and Hamming basics of the linear hashers (no models needed). */
import { hammingDistance } from '../../../src/search/hasher/hasher';
import { ItqHasher } from '../../../src/search/hasher/itq-hasher';
import { RandomProjectionHasher } from '../../../src/search/hasher/random-projection-hasher';
import { SeededRandom } from '../../../src/search/hasher/seeded-random';

function randomUnit(rng: SeededRandom, dims: number): Float32Array {
  const v = new Float32Array(dims);
  let ss = 0;
  for (let i = 0; i < dims; i++) ss += (v[i] = rng.gaussian()) ** 2;
  for (let i = 0; i < dims; i++) v[i] /= Math.sqrt(ss);
  return v;
}

describe('bit order', () => {
  // 16 bits over 16 dims, row j = e_j and a zero mean: bit j is exactly sign(x[j]).
  const dims = 16;
  const rows = new Float32Array(dims * dims);
  for (let j = 0; j < dims; j++) rows[j * dims + j] = 1;
  const h = new ItqHasher({ bits: 16, dims, mean: new Float32Array(dims), rows });

  test('bit i is bit (i % 8) of byte floor(i / 8), least significant first', () => {
    for (let i = 0; i < 16; i++) {
      const x = new Float32Array(dims).fill(-1);
      x[i] = 1;
      const code = h.encode(x);
      expect(code.length).toBe(2);
      expect(code[i >> 3]).toBe(1 << (i & 7));
      expect(code[1 - (i >> 3)]).toBe(0);
    }
  });

  test('a value of exactly 0 (or the mean) gives bit 0; the mean is subtracted', () => {
    expect([...h.encode(new Float32Array(dims))]).toEqual([0, 0]);
    const mean = new Float32Array(dims).fill(0.5);
    const centred = new ItqHasher({ bits: 16, dims, mean, rows });
    const x = new Float32Array(dims).fill(0.6);
    x[3] = 0.4; // below the mean: its bit is 0
    expect([...centred.encode(x)]).toEqual([0xff & ~(1 << 3), 0xff]);
  });

  test('rejects embeddings of the wrong size and params of the wrong shape', () => {
    expect(() => h.encode(new Float32Array(dims + 1))).toThrow(RangeError);
    expect(() => new ItqHasher({ bits: 8, dims, mean: new Float32Array(dims), rows })).toThrow(RangeError);
  });
});

describe('RandomProjectionHasher', () => {
  const rng = new SeededRandom(3);
  const xs = Array.from({ length: 20 }, () => randomUnit(rng, 1792));

  test('is deterministic for a seed and differs across seeds', () => {
    const a = new RandomProjectionHasher(128, 1792, 1);
    const b = new RandomProjectionHasher(128, 1792, 1);
    const c = new RandomProjectionHasher(128, 1792, 2);
    for (const x of xs) expect(b.encode(x)).toEqual(a.encode(x));
    expect(xs.some((x) => hammingDistance(a.encode(x), c.encode(x)) > 0)).toBe(true);
  });

  test.each([64, 128, 256])('%i bits: identical embeddings are at distance 0, x and -x at distance bits', (bits) => {
    const h = new RandomProjectionHasher(bits, 1792, 1);
    for (const x of xs) {
      const code = h.encode(x);
      expect(code.length).toBe(bits / 8);
      expect(hammingDistance(code, h.encode(Float32Array.from(x)))).toBe(0);
      expect(hammingDistance(code, h.encode(x.map((v) => -v)))).toBe(bits);
    }
  });

  test('Hamming distance estimates the angle (SimHash): E[d / bits] = angle / pi', () => {
    const h = new RandomProjectionHasher(256, 1792, 1);
    let err = 0;
    for (let i = 0; i + 1 < xs.length; i++) {
      const cos = xs[i].reduce((s, v, k) => s + v * xs[i + 1][k], 0);
      err += Math.abs(hammingDistance(h.encode(xs[i]), h.encode(xs[i + 1])) / 256 - Math.acos(cos) / Math.PI);
    }
    // One code's std at 256 bits is about 0.03; the mean over 19 pairs sits well inside 0.05.
    expect(err / (xs.length - 1)).toBeLessThan(0.05);
  });
});

describe('hammingDistance', () => {
  test('counts differing bits and rejects mismatched lengths', () => {
    expect(hammingDistance(Uint8Array.of(0b1010_0001, 0xff), Uint8Array.of(0b0010_0000, 0x0f))).toBe(2 + 4);
    expect(() => hammingDistance(new Uint8Array(8), new Uint8Array(16))).toThrow(RangeError);
  });
});
