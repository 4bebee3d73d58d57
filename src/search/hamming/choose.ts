/** placeholder */
import type { CodeBits } from './hamming-index';
export function chooseHammingIndex(n: number, bits: CodeBits): { kind: 'scan' | 'mih' } {
  void bits;
  return { kind: n >= 200_000 ? 'mih' : 'scan' };
}
