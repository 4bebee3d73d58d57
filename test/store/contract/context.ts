import type { CatalogStore } from '../../../src/store/catalog-store';

/** Contract points a test server cannot meet (never the production backend): each value
 *  is the reason, shown in the skipped test's title. */
export interface KnownGaps {
  /** Ids above U+FFFF sorted after U+E000..U+FFFF (code point vs UTF-16 order). */
  codePointOrder?: string;
  /** Concurrent findOneAndUpdate calls on one document both match (not atomic). */
  atomicClaim?: string;
}

/** What a suite's cases reach: the port under test (the catalog store by default). */
export interface ContractContext<S = CatalogStore> {
  /** The current test's store. */
  store(): S;
  gaps: KnownGaps;
}

/** `it`, or `it.skip` with the gap's reason in the title when the gap is declared. */
export function itUnlessGap(gap: string | undefined, title: string, fn: () => Promise<void>): void {
  if (gap) it.skip(`${title} [skipped: ${gap}]`, fn);
  else it(title, fn);
}
