/**
 * The conformance suites of the store ports, one per port: CatalogStore
 * (src/store/catalog-store.ts), OperationStore (operation-store.ts) and IndexFeedStore
 * (index-feed-store.ts). Every implementation's test file calls runStoreContracts with a
 * factory of its Stores handle; each test gets a fresh, empty database from it, reaches
 * only the port its suite is about, and closes the handle afterwards.
 */
import type { CatalogStore } from '../../src/store/catalog-store';
import type { IndexFeedStore } from '../../src/store/index-feed-store';
import type { OperationStore } from '../../src/store/operation-store';
import type { Stores } from '../../src/store/stores';
import { catalogRecordCases } from './contract/records';
import { operationCases } from './contract/operations';
import { operationResultCases } from './contract/operation-results';
import { CATALOG_LISTABLES, OPERATION_LISTABLES, pagingCases } from './contract/paging';
import { relationCases } from './contract/relations';
import { indexFeedCases } from './contract/index-feed';
import { productSetKeyCases } from './contract/product-set-keys';
import type { ContractContext, KnownGaps } from './contract/context';

export type { KnownGaps } from './contract/context';

type Make = () => Promise<Stores>;

/**
 * @param make returns a new, empty store (a fresh file or database per call)
 * @param cleanup runs once after all the suites (temp dirs, servers)
 * @param gaps contract points the backing server used in tests cannot meet, each with the
 *   reason; the matching test is skipped with that reason in its title
 */
export function runStoreContracts(label: string, make: Make, cleanup?: () => Promise<void>, gaps: KnownGaps = {}): void {
  describe(`Stores handle: ${label}`, () => {
    it('ping resolves, and close closes every port', async () => {
      const stores = await make();
      await expect(stores.ping()).resolves.toBeUndefined();
      await stores.close();
      await expect(stores.ping()).rejects.toThrow();
    });
  });
  runCatalogStoreContract(label, make, gaps);
  runOperationStoreContract(label, make, gaps);
  runIndexFeedStoreContract(label, make, gaps);
  if (cleanup) afterAll(cleanup);
}

export function runCatalogStoreContract(label: string, make: Make, gaps: KnownGaps = {}): void {
  describe(`CatalogStore contract: ${label}`, () => {
    const ctx = portContext(make, (s) => s.catalog, gaps);
    catalogRecordCases(ctx);
    pagingCases(ctx, CATALOG_LISTABLES);
    relationCases(ctx);
    productSetKeyCases(ctx);
  });
}

export function runOperationStoreContract(label: string, make: Make, gaps: KnownGaps = {}): void {
  describe(`OperationStore contract: ${label}`, () => {
    const ctx = portContext(make, (s) => s.operations, gaps);
    operationCases(ctx);
    operationResultCases(ctx);
    pagingCases(ctx, OPERATION_LISTABLES);
  });
}

export function runIndexFeedStoreContract(label: string, make: Make, gaps: KnownGaps = {}): void {
  describe(`IndexFeedStore contract: ${label}`, () => {
    indexFeedCases(portContext(make, (s) => s.indexFeed, gaps));
  });
}

/** A fresh handle per test (registered in the calling describe); the cases see one port. */
function portContext<S extends CatalogStore | OperationStore | IndexFeedStore>(
  make: Make,
  port: (s: Stores) => S,
  gaps: KnownGaps,
): ContractContext<S> {
  let current: Stores | undefined;
  beforeEach(async () => {
    current = await make();
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return {
    store: () => {
      if (!current) throw new Error('no store: used outside a test');
      return port(current);
    },
    gaps,
  };
}
