/**
 * Issue #15, a work budget per request: the regions one image is searched or indexed by are
 * capped (METAPIXEL_MAX_REGIONS_PER_IMAGE), and a kind of region with no room left costs
 * nothing. Counted in model runs from /metrics, through the real clients.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { imageAnnotatorClient, productSearchClient, TRANSPORTS } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { modelRuns } from '../support/model-runs';
import { startTestServer, type TestServer } from '../support/server';

const PARENT = 'projects/shop/locations/us-west1';
const SET = `${PARENT}/productSets/s`;
const dog = readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg'));
let server: TestServer;

const runs = () => modelRuns(server.restUrl);
async function cost<T>(fn: () => Promise<T>): Promise<{ value: T; embedder: number; detectors: number }> {
  const before = await runs();
  const value = await fn();
  const after = await runs();
  return { value, embedder: after.embedder - before.embedder, detectors: after.detectors - before.detectors };
}

beforeAll(async () => {
  server = await startTestServer({ maxRegionsPerImage: 1 });
  server.gcs.put('catalog', 'dog.jpg', dog);
}, 60000);
afterAll(async () => {
  await server?.stop();
});

describe.each(TRANSPORTS)('over %s, with a cap of one region per image', (transport) => {
  test('a reference image is indexed by the whole image alone: one embedding, no detection', async () => {
    const client = productSearchClient(server, transport);
    const id = `dog-${transport}`;
    if (transport === 'grpc') await client.createProductSet({ parent: PARENT, productSetId: 's', productSet: { displayName: 'S' } });
    await client.createProduct({ parent: PARENT, productId: id, product: { displayName: id, productCategory: 'general-v1' } });
    const created = await cost(() =>
      client.createReferenceImage({ parent: `${PARENT}/products/${id}`, referenceImage: { uri: 'gs://catalog/dog.jpg' } }),
    );
    expect(created).toMatchObject({ embedder: 1, detectors: 0 });
    await client.addProductToProductSet({ name: SET, product: `${PARENT}/products/${id}` });
    await client.close();
  });

  test('a PRODUCT_SEARCH query is searched by the whole image alone and still finds the product', async () => {
    const client = imageAnnotatorClient(server, transport);
    const searched = await cost(() =>
      client.batchAnnotateImages({
        requests: [
          {
            image: { content: dog },
            features: [{ type: 'PRODUCT_SEARCH' }],
            imageContext: { productSearchParams: { productSet: SET, productCategories: ['general-v1'] } },
          },
        ],
      }),
    );
    expect(searched).toMatchObject({ embedder: 1, detectors: 0 });
    const res = searched.value[0].responses![0];
    expect(res.error).toBeFalsy();
    expect(res.productSearchResults!.results![0].product!.name).toMatch(/\/products\/dog-(grpc|rest)$/);
    // No object was looked for, so there is no group of one.
    expect(res.productSearchResults!.productGroupedResults).toHaveLength(0);
    await client.close();
  });
});
