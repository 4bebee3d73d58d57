export { encodeLinear, hammingDistance, paramsFingerprint } from './hasher';
export type { Hasher, HashMethod } from './hasher';
export { ItqHasher } from './itq-hasher';
export { ITQ_FORMAT, readHashingFile, readItqParams, sha256Hex } from './itq-params';
export type { ItqParams } from './itq-params';
export { RandomProjectionHasher } from './random-projection-hasher';
export { SeededRandom } from './seeded-random';
