export { encodeLinear, hammingDistance } from './hasher';
export type { Hasher } from './hasher';
export { ItqHasher } from './itq-hasher';
export { ITQ_FORMAT, readItqParams, sha256Hex } from './itq-params';
export type { ItqParams } from './itq-params';
export { RandomProjectionHasher } from './random-projection-hasher';
export { SeededRandom } from './seeded-random';
