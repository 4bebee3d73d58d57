/** The median of `values` (the mean of the two middle ones for an even count; 0 for none). */
export function median(values: readonly number[]): number {
  return middle([...values].sort((a, b) => a - b));
}

/** The median of values, as median gives it, sorting them in place (no copy, no comparator). */
export function medianOf(values: Float64Array): number {
  return middle(values.sort());
}

/** The median of values sorted ascending. */
function middle(sorted: ArrayLike<number>): number {
  if (sorted.length === 0) return 0;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
