/**
 * The one conformance suite for CatalogStore (src/store/catalog-store.ts). Every
 * implementation's test file calls runStoreContract with a factory; each test gets a fresh,
 * empty store from it and closes it afterwards.
 */
import type { CatalogStore } from '../../src/store/catalog-store';
import { catalogRecordCases } from './contract/records';
import { operationCases } from './contract/operations';
import { operationResultCases } from './contract/operation-results';
import { pagingCases } from './contract/paging';
import { relationCases } from './contract/relations';
import { indexFeedCases } from './contract/index-feed';
import type { ContractContext, KnownGaps } from './contract/context';

export type { KnownGaps } from './contract/context';

/**
 * @param make returns a new, empty store (a fresh file or database per call)
 * @param cleanup runs once after the whole suite (temp dirs, servers)
 * @param gaps contract points the backing server used in tests cannot meet, each with the
 *   reason; the matching test is skipped with that reason in its title
 */
export function runStoreContract(
  label: string,
  make: () => Promise<CatalogStore>,
  cleanup?: () => Promise<void>,
  gaps: KnownGaps = {},
): void {
  describe(`CatalogStore contract: ${label}`, () => {
    let current: CatalogStore | undefined;
    beforeEach(async () => {
      current = await make();
    });
    afterEach(async () => {
      await current?.close();
      current = undefined;
    });
    if (cleanup) afterAll(cleanup);

    const ctx: ContractContext = {
      store: () => {
        if (!current) throw new Error('no store: used outside a test');
        return current;
      },
      gaps,
    };

    it('ping resolves', async () => {
      await expect(ctx.store().ping()).resolves.toBeUndefined();
    });

    catalogRecordCases(ctx);
    pagingCases(ctx);
    relationCases(ctx);
    indexFeedCases(ctx);
    operationCases(ctx);
    operationResultCases(ctx);
  });
}
