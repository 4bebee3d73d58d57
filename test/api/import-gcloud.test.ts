/**
 * Acceptance 3 (import half) of the bulk-work issue: `gcloud beta ml vision product-search
 * product-sets import` runs an import end to end, waiting on the operation as gcloud does.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { devImagesDir } from '../support/dev-images';
import { gcloudFor, type GcloudRunner } from '../support/gcloud';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
let gcloud: GcloudRunner;

beforeAll(async () => {
  server = await startTestServer();
  for (const f of ['darknet_dog.jpg', 'darknet_kite.jpg']) server.gcs.put('shop', f, readFileSync(path.join(devImagesDir(), f)));
  server.gcs.put(
    'shop',
    'catalog.csv',
    Buffer.from(
      [
        'gs://shop/darknet_dog.jpg,dog-front,animals,dog,general-v1,Dog,"kind=dog",',
        'gs://shop/darknet_kite.jpg,kite-front,animals,kite,toys-v2,Kite,,"0.1,0.1,0.9,0.1,0.9,0.9,0.1,0.9"',
        'gs://shop/nothing.jpg,,animals,ghost,general-v1,Ghost,,',
      ].join('\n'),
    ),
  );
  gcloud = gcloudFor(server.restUrl, 'gc-import');
});
afterAll(async () => {
  await server?.stop();
  gcloud?.cleanup();
});

const PS = ['beta', 'ml', 'vision', 'product-search'];

test('gcloud imports a CSV and waits for the operation; the catalog then lists what it made', async () => {
  // gcloud waits for the operation and prints it whole.
  const op = JSON.parse(
    await gcloud(...PS, 'product-sets', 'import', 'gs://shop/catalog.csv', '--location', 'us-west1', '--format', 'json'),
  );
  expect(op).toMatchObject({
    done: true,
    metadata: { state: 'SUCCESSFUL', '@type': 'type.googleapis.com/google.cloud.vision.v1.BatchOperationMetadata' },
  });
  const out = op.response;
  expect(out.statuses.map((s: { code?: number }) => s.code ?? 0)).toEqual([0, 0, 5]);
  expect(out.referenceImages.map((r: { name: string }) => r.name)).toEqual([
    'projects/gc-import/locations/us-west1/products/dog/referenceImages/dog-front',
    'projects/gc-import/locations/us-west1/products/kite/referenceImages/kite-front',
  ]);
  const inSet = JSON.parse(
    await gcloud(...PS, 'product-sets', 'list-products', '--product-set', 'animals', '--location', 'us-west1', '--format', 'json'),
  );
  expect(inSet.map((p: { name: string }) => p.name).sort()).toEqual([
    'projects/gc-import/locations/us-west1/products/dog',
    'projects/gc-import/locations/us-west1/products/kite',
  ]);
  const images = JSON.parse(await gcloud(...PS, 'images', 'list', '--product', 'kite', '--location', 'us-west1', '--format', 'json'));
  expect(images[0].boundingPolys[0].normalizedVertices).toHaveLength(4);

  // --async answers the operation at once; gcloud names it as Google does.
  const queued = JSON.parse(
    await gcloud(...PS, 'product-sets', 'import', 'gs://shop/catalog.csv', '--location', 'us-west1', '--async', '--format', 'json'),
  );
  expect(queued.name).toMatch(/^projects\/gc-import\/locations\/us-west1\/operations\/\w+$/);
}, 180000);
