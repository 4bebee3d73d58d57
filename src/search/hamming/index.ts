/** Exact Hamming k-NN indexes over binary codes; see hamming-index.ts for the contract. */
export type { CodeBits, HammingHit, HammingIndex, HammingSearchOptions, HammingStats } from './hamming-index';
export { LinearScanIndex, type LinearScanOptions } from './linear-scan';
export { MultiIndexHashing, type MihOptions } from './mih';
export { chooseM } from './mih-tables';
export { CHOOSE_RULE, chooseHammingIndex, makeHammingIndex, type HammingIndexChoice } from './choose';
export { KERNELS, type KernelName } from './scan-kernels';
export { ColumnsAhead, grownCapacity } from './capacity';
