/**
 * How the growable typed arrays of the index grow (codes' ids, the id map, rows and
 * re-rank columns): by half while small, by 1/8 from 64k entries, so growing one entry at
 * a time copies O(1) amortised and a large index leaves little unused.
 */
export function grownCapacity(current: number, min: number): number {
  return Math.max(min, Math.ceil(current * (current < 65536 ? 1.5 : 1.125)), 64);
}
