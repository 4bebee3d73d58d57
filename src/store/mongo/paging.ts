import type { Page } from '../catalog-store';

/** A usable limit: MongoDB reads `limit(0)` as "no limit", so a non-positive (or
 *  non-finite) page size must short-circuit to an empty page instead. */
export function pageLimit(page: Page): number {
  return Number.isFinite(page.limit) && page.limit > 0 ? Math.floor(page.limit) : 0;
}

/** The keyset condition on `field`: strictly after the cursor, when there is one. */
export function afterCursor(page: Page): { $gt: string } {
  // Every id is non-empty, so '' sorts before all of them.
  return { $gt: page.after ?? '' };
}
