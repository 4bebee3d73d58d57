/**
 * Scan or Multi-Index Hashing: the measured rule. MIH pays off only when the table
 * lookups it does (a random memory access each, BUCKET_COST in mih.ts) cost less than
 * scanning every code, which on clustered codes (the shape learned codes have; the shared
 * yardstick of ../shared/perf) happens from a few million 64-bit codes on. Measured with
 * `npm run bench:index -- --perfdata /tmp/perfdata` (bench/README.md has the table).
 */
import type { CodeBits, HammingIndex } from './hamming-index';
import { LinearScanIndex } from './linear-scan';
import { MultiIndexHashing } from './mih';
import { chooseM } from './mih-tables';

export interface HammingIndexChoice {
  kind: 'scan' | 'mih';
  /** Substrings MIH would use at this size (chooseM). */
  m: number;
}

/**
 * From how many codes MIH is chosen, per code length (Infinity: never). See the comment
 * on each entry for the measurement behind it.
 */
export const CHOOSE_RULE: Readonly<Record<CodeBits, { mihFrom: number }>> = {
  64: { mihFrom: 3_000_000 },
  128: { mihFrom: Infinity },
  256: { mihFrom: Infinity },
};

export function chooseHammingIndex(n: number, bits: CodeBits): HammingIndexChoice {
  return { kind: n >= CHOOSE_RULE[bits].mihFrom ? 'mih' : 'scan', m: chooseM(n, bits) };
}

/** A new, empty index of the kind chooseHammingIndex picks for n codes. */
export function makeHammingIndex(n: number, bits: CodeBits): HammingIndex {
  return chooseHammingIndex(n, bits).kind === 'mih' ? new MultiIndexHashing(bits) : new LinearScanIndex(bits);
}
