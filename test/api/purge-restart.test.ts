/**
 * PurgeProducts survives a SIGKILL: a server killed in the middle of a product-set purge
 * resumes the operation after a restart on the same data; every product of the set is
 * deleted, nothing else is, and the progress count ends exact (products deleted before
 * the kill counted once). The catalog is seeded through the store port before the server
 * starts: creating thousands of products through the API would take minutes, and a purge
 * of fewer ends before a kill can land inside it.
 */
import { openStore } from '../../src/store/open-store';
import { productSearchClient } from '../support/clients';
import { killAfterProgress, progressOf, restartScenario, stopGracefully } from '../support/restart';

const scope = { project: 'crash', location: 'us-east1' };
const PARENT = `projects/${scope.project}/locations/${scope.location}`;
const SIZE = 3000;

async function seed(dataDir: string): Promise<void> {
  const store = await openStore({ dataDir });
  try {
    const now = new Date();
    for (const id of ['big', 'keep'])
      await store.catalog.createProductSet({ ...scope, id, displayName: id, createTime: now, updateTime: now });
    const product = (id: string) =>
      store.catalog.createProduct({
        ...scope,
        id,
        displayName: id,
        description: '',
        productCategory: 'general-v1',
        labels: [],
        createTime: now,
        updateTime: now,
      });
    for (let i = 0; i < SIZE; i++) {
      const id = `p${String(i).padStart(4, '0')}`;
      await product(id);
      await store.catalog.addProductToSet({ ...scope, productSet: 'big' }, id);
    }
    await product('kept');
    await store.catalog.addProductToSet({ ...scope, productSet: 'keep' }, 'kept');
    await product('orphan');
  } finally {
    await store.close();
  }
}

test('a purge killed with SIGKILL resumes after restart; the set ends empty, other products stay, the count is exact', async () => {
  await restartScenario('purge-restart', async ({ dataDir, start }) => {
    await seed(dataDir);
    const first = await start();
    const client = productSearchClient(first, 'grpc');
    const [operation] = await client.purgeProducts({ parent: PARENT, productSetPurgeConfig: { productSetId: 'big' }, force: true });
    await client.close();
    const name = operation.name!;
    const processed = await killAfterProgress(first, name, 300);
    expect(processed).toBeLessThan(SIZE);

    const second = await start();
    const again = productSearchClient(second, 'rest');
    const resumed = await again.checkPurgeProductsProgress(name);
    await resumed.promise();
    const [left] = await again.listProducts({ parent: PARENT, pageSize: 100 });
    expect(left.map((p) => p.name!.split('/').pop()).sort()).toEqual(['kept', 'orphan']);
    const [inBig] = await again.listProductsInProductSet({ name: `${PARENT}/productSets/big` });
    expect(inBig).toEqual([]);
    const [inKeep] = await again.listProductsInProductSet({ name: `${PARENT}/productSets/keep` });
    expect(inKeep.map((p) => p.name!.split('/').pop())).toEqual(['kept']);
    const progress = await progressOf(second, name);
    expect(progress).toMatchObject({ state: 'SUCCESSFUL', done: true, processedLines: String(SIZE) });
    expect(progress.failedLines).toBeUndefined(); // zero, which proto3 JSON leaves out
    await again.close();
    await stopGracefully(second);
  });
}, 300000);
