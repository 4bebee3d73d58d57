/**
 * Issue #15, a work budget per request: detection is computed once per image whatever the
 * features ask. An image asked for OBJECT_LOCALIZATION and PRODUCT_SEARCH together costs
 * the detector runs of OBJECT_LOCALIZATION alone (before: the sum of both features'), and
 * the search's objects are the localized ones. Counted in model runs from /metrics,
 * through the real clients.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { imageAnnotatorClient, productSearchClient, TRANSPORTS } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { modelRuns } from '../support/model-runs';
import { startTestServer, type TestServer } from '../support/server';

const PARENT = 'projects/shop/locations/us-west1';
const SET = `${PARENT}/productSets/s`;
const photo = readFileSync(path.join(devImagesDir(), 'darknet_person.jpg'));
let server: TestServer;

const runs = () => modelRuns(server.restUrl);

beforeAll(async () => {
  server = await startTestServer();
  server.gcs.put('catalog', 'person.jpg', photo);
  const client = productSearchClient(server, 'grpc');
  await client.createProductSet({ parent: PARENT, productSetId: 's', productSet: { displayName: 'S' } });
  await client.createProduct({ parent: PARENT, productId: 'p', product: { displayName: 'p', productCategory: 'general-v1' } });
  await client.createReferenceImage({ parent: `${PARENT}/products/p`, referenceImage: { uri: 'gs://catalog/person.jpg' } });
  await client.addProductToProductSet({ name: SET, product: `${PARENT}/products/p` });
  await client.close();
}, 60000);
afterAll(async () => {
  await server?.stop();
});

const LOCALIZE = { type: 'OBJECT_LOCALIZATION' as const };
const SEARCH = { type: 'PRODUCT_SEARCH' as const };
const context = { productSearchParams: { productSet: SET, productCategories: ['general-v1'] } };

describe.each(TRANSPORTS)('over %s', (transport) => {
  test('OBJECT_LOCALIZATION with PRODUCT_SEARCH on one image runs the detectors once', async () => {
    const client = imageAnnotatorClient(server, transport);
    const annotate = async (features: { type: 'OBJECT_LOCALIZATION' | 'PRODUCT_SEARCH' }[]) => {
      const before = await runs();
      const [res] = await client.batchAnnotateImages({ requests: [{ image: { content: photo }, features, imageContext: context }] });
      const after = await runs();
      return { res: res.responses![0], detectors: after.detectors - before.detectors, embedder: after.embedder - before.embedder };
    };
    const localize = await annotate([LOCALIZE]);
    const search = await annotate([SEARCH]);
    const both = await annotate([LOCALIZE, SEARCH]);
    const reversed = await annotate([SEARCH, LOCALIZE]);
    expect(localize.detectors).toBeGreaterThan(0);
    expect(search.detectors).toBeGreaterThan(0);
    // One detection run for both features, whichever is listed first.
    expect(both.detectors).toBe(localize.detectors);
    expect(reversed.detectors).toBe(localize.detectors);
    expect(both.embedder).toBe(reversed.embedder);
    expect(both.res.error).toBeFalsy();
    // The answers are those of the features alone, and the search's objects are the localized ones.
    expect(both.res.localizedObjectAnnotations).toEqual(localize.res.localizedObjectAnnotations);
    expect(both.res.productSearchResults!.results![0].product!.name).toBe(`${PARENT}/products/p`);
    const localized = new Set(localize.res.localizedObjectAnnotations!.map((o) => `${o.name} ${o.score}`));
    const grouped = both.res.productSearchResults!.productGroupedResults!.map(
      (g) => `${g.objectAnnotations![0].name} ${g.objectAnnotations![0].score}`,
    );
    expect(grouped.length).toBeGreaterThan(0);
    for (const g of grouped) expect(localized).toContain(g);
    await client.close();
  });
});
