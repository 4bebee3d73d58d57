/**
 * The regions of a PRODUCT_SEARCH query on the default path, as src/annotate/product-search.ts
 * makes them, for benchmarks that search the index directly: the whole image, its two
 * quarter turns, then pooled windows (secondary regions, and the contrast's context).
 */
import { CONTRAST_FULL_BELOW, CONTRAST_POOL, CONTRAST_WEIGHT, REGION_PENALTY } from '../src/annotate/product-search';
import type { Contrast, QueryVector } from '../src/search/product-set-index';

const kindOf = (r: number) => (r === 0 ? 'whole' : r < 3 ? 'rotated' : 'window');

/** Query region r (0: the whole image) with this embedding. */
export function defaultPathRegion(r: number, embedding: Float32Array): QueryVector {
  const kind = kindOf(r);
  return { embedding, penalty: REGION_PENALTY[kind], secondary: kind === 'window' };
}

/** The contrast PRODUCT_SEARCH applies to a query of `regions` such regions. */
export function defaultPathContrast(regions: number): Contrast {
  const context = Array.from({ length: regions }, (_, r) => r).filter((r) => kindOf(r) === 'window');
  return { context, weight: CONTRAST_WEIGHT, pool: CONTRAST_POOL, fullBelow: CONTRAST_FULL_BELOW };
}
