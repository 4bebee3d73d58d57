/**
 * Acceptance 2 of the catalog issue: the real gcloud CLI, pointed at the server as
 * ../shared/facts/google-api.md describes, manages a catalog.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gcloudFor, type GcloudRunner } from '../support/gcloud';
import { patternJpeg, startTestServer, type TestServer } from '../support/server';

let server: TestServer;
let gcloud: GcloudRunner;

beforeAll(async () => {
  server = await startTestServer();
  server.gcs.put('catalog', 'runner.jpg', await patternJpeg(600, 600));
  gcloud = gcloudFor(server.restUrl, 'gc-proj');
});
afterAll(async () => {
  await server?.stop();
  gcloud?.cleanup();
});

const PS = ['beta', 'ml', 'vision', 'product-search'];

test('gcloud creates and lists a product set, a labelled product and a reference image, and updates labels', async () => {
  await gcloud(...PS, 'product-sets', 'create', 'shoes', '--location', 'us-west1', '--display-name', 'Shoes');
  const sets = JSON.parse(await gcloud(...PS, 'product-sets', 'list', '--location', 'us-west1', '--format', 'json'));
  expect(sets).toEqual([expect.objectContaining({ name: 'projects/gc-proj/locations/us-west1/productSets/shoes', displayName: 'Shoes' })]);

  await gcloud(
    ...PS,
    'products',
    'create',
    'runner',
    '--location',
    'us-west1',
    '--display-name',
    'Runner',
    '--category',
    'apparel',
    '--product-labels',
    'color=red,style=running',
  );
  const products = JSON.parse(await gcloud(...PS, 'products', 'list', '--location', 'us-west1', '--format', 'json'));
  expect(products).toHaveLength(1);
  expect(products[0].productLabels).toEqual([
    { key: 'color', value: 'red' },
    { key: 'style', value: 'running' },
  ]);

  // Polygons go through a flags file, as gcloud's own help shows.
  const flags = path.join(gcloud.configDir, 'poly.yaml');
  writeFileSync(
    flags,
    '- --bounding-polygon:\n    vertices:\n      - {x: 0, y: 0}\n      - {x: 0, y: 400}\n      - {x: 400, y: 0}\n      - {x: 400, y: 400}\n',
  );
  await gcloud(
    ...PS,
    'images',
    'create',
    'front',
    '--product',
    'runner',
    '--location',
    'us-west1',
    '--storage-location',
    'gs://catalog/runner.jpg',
    `--flags-file=${flags}`,
  );
  const images = JSON.parse(await gcloud(...PS, 'images', 'list', '--product', 'runner', '--location', 'us-west1', '--format', 'json'));
  expect(images).toEqual([
    expect.objectContaining({
      name: 'projects/gc-proj/locations/us-west1/products/runner/referenceImages/front',
      uri: 'gs://catalog/runner.jpg',
    }),
  ]);
  expect(images[0].boundingPolys[0].vertices).toEqual([{}, { y: 400 }, { x: 400 }, { x: 400, y: 400 }]);

  await gcloud(
    ...PS,
    'products',
    'update',
    'runner',
    '--location',
    'us-west1',
    '--add-product-labels',
    'size=9',
    '--remove-product-labels',
    'style=running',
  );
  const updated = JSON.parse(await gcloud(...PS, 'products', 'describe', 'runner', '--location', 'us-west1', '--format', 'json'));
  expect(updated.productLabels).toEqual([
    { key: 'color', value: 'red' },
    { key: 'size', value: '9' },
  ]);

  await gcloud(...PS, 'product-sets', 'add-product', 'shoes', '--product', 'runner', '--location', 'us-west1');
  const inSet = JSON.parse(
    await gcloud(...PS, 'product-sets', 'list-products', '--product-set', 'shoes', '--location', 'us-west1', '--format', 'json'),
  );
  expect(inSet.map((p: { name: string }) => p.name)).toEqual(['projects/gc-proj/locations/us-west1/products/runner']);
}, 240000);
