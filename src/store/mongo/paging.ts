import type { Filter } from 'mongodb';
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

/**
 * The keyset condition of listProductSetKeys: documents whose (project, location, id)
 * tuple is strictly greater than the one `after` splits into. `after` is a composite key
 * `${project}/${location}/${id}` (none of the three contains '/'); missing segments read
 * as '', which sorts before every real value, and no `after` means from the start.
 * Paired with the sort { project: 1, location: 1, id: 1 }.
 */
export function afterTuple<T extends { project: string; location: string; id: string }>(page: Page): Filter<T> {
  const [project = '', location = '', ...rest] = (page.after ?? '').split('/');
  const id = rest.join('/');
  const or = [{ project: { $gt: project } }, { project, location: { $gt: location } }, { project, location, id: { $gt: id } }];
  return { $or: or } as Filter<T>;
}
