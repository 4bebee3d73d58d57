/**
 * The code forms images:encode answers (src/encode/encode-service.ts codeMessage) and the
 * scheme the shipped hashers report: the bit order must be the index's packing
 * (src/search/hasher/hasher.ts), or codes from the API would not match stored ones.
 */
import path from 'node:path';
import { codeMessage } from '../../src/encode/encode-service';
import { encodeLinear, ItqHasher, RandomProjectionHasher } from '../../src/search/hasher';

const HASHING = path.resolve(__dirname, '..', '..', 'models', 'hashing');

test('bit i is bit i % 8 (least significant first) of byte i / 8, in both hex and the bit string', () => {
  expect(codeMessage(Uint8Array.from([0x06, 0x80]), 16)).toEqual({ hex: '0680', bits: '0110000000000001', length: 16 });
  // Against the packing encodeLinear does: bit j set exactly where projection j is positive.
  const dims = 3;
  const rows = Float32Array.from([1, 0, 0, -1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, -1, 1, 1, 1, -1, -1, -1, 0, 1, 1, 1, 0, 0]);
  const code = encodeLinear(Float32Array.from([0.5, -0.25, 0.75]), rows, new Float32Array(9), 9, dims);
  expect(codeMessage(code, 9).bits).toBe('100101011');
});

test('shipped hashers report their method and a fingerprint that changes with the parameters', async () => {
  const [h64, h128, again] = await Promise.all([ItqHasher.load(HASHING, 64), ItqHasher.load(HASHING, 128), ItqHasher.load(HASHING, 128)]);
  expect(h128.method).toBe('pca-sign'); // itq-128.json: rotation "none"
  expect(h128.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  expect(again.fingerprint).toBe(h128.fingerprint);
  expect(h64.fingerprint).not.toBe(h128.fingerprint);
  const rp = new RandomProjectionHasher(128, 1792, 1);
  expect(rp.method).toBe('random-projection');
  expect(new RandomProjectionHasher(128, 1792, 2).fingerprint).not.toBe(rp.fingerprint);
});
