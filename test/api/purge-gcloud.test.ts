/**
 * The real gcloud CLI purges products: `gcloud alpha ml vision product-search products
 * delete-all LOCATION --product-set X --force` and `--orphan-products --force`. gcloud
 * answers with the operation without waiting, so the test polls it to done.
 */
import { productSearchClient } from '../support/clients';
import { gcloudFor, type GcloudRunner } from '../support/gcloud';
import { startTestServer, type TestServer } from '../support/server';

const PROJECT = 'gc-purge';
const PARENT = `projects/${PROJECT}/locations/us-west1`;
const PS = ['alpha', 'ml', 'vision', 'product-search'];
let server: TestServer;
let gcloud: GcloudRunner;

beforeAll(async () => {
  server = await startTestServer();
  gcloud = gcloudFor(server.restUrl, PROJECT);
});
afterAll(async () => {
  await server?.stop();
  gcloud?.cleanup();
});

test('gcloud delete-all purges a product set, then the orphans', async () => {
  const client = productSearchClient(server, 'rest');
  await client.createProductSet({ parent: PARENT, productSetId: 'shoes', productSet: { displayName: 'Shoes' } });
  for (const id of ['in-set', 'orphan', 'kept']) {
    await client.createProduct({ parent: PARENT, productId: id, product: { displayName: id, productCategory: 'apparel' } });
  }
  await client.addProductToProductSet({ name: `${PARENT}/productSets/shoes`, product: `${PARENT}/products/in-set` });
  await client.createProductSet({ parent: PARENT, productSetId: 'other', productSet: { displayName: 'Other' } });
  await client.addProductToProductSet({ name: `${PARENT}/productSets/other`, product: `${PARENT}/products/kept` });
  const ids = async () => (await client.listProducts({ parent: PARENT }))[0].map((p) => p.name!.split('/').pop()).sort();
  const finish = async (stdout: string) => {
    const op = JSON.parse(stdout) as { name: string; metadata: Record<string, unknown> };
    // gcloud shows the operation as the server answered it: queued, not yet done.
    expect(op.metadata).toMatchObject({
      '@type': 'type.googleapis.com/google.cloud.vision.v1.BatchOperationMetadata',
      state: 'PROCESSING',
    });
    expect(op.name).toMatch(new RegExp(`^${PARENT}/operations/`));
    const [, metadata] = await (await client.checkPurgeProductsProgress(op.name)).promise();
    expect([2, 'SUCCESSFUL']).toContain(metadata.state);
  };

  await finish(await gcloud(...PS, 'products', 'delete-all', 'us-west1', '--product-set', 'shoes', '--force', '--format', 'json'));
  expect(await ids()).toEqual(['kept', 'orphan']);

  await finish(await gcloud(...PS, 'products', 'delete-all', 'us-west1', '--orphan-products', '--force', '--format', 'json'));
  expect(await ids()).toEqual(['kept']);

  // A set that does not exist: gcloud reports the server's NOT_FOUND and exits non-zero.
  await expect(gcloud(...PS, 'products', 'delete-all', 'us-west1', '--product-set', 'nope', '--force')).rejects.toThrow(
    /NOT_FOUND|not found/,
  );
  await client.close();
}, 180000);
