/**
 * Two server processes on one MongoDB store (jongodb here): a product added through one is
 * found by product search through the other within 2 s.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { imageAnnotatorClient, productSearchClient } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startFakeGcs, type FakeGcs } from '../support/fake-gcs';
import { startJongodb } from '../support/jongodb';
import { spawnServer, type ServerProcess } from '../support/process';

const PARENT = 'projects/shared/locations/eu';
const SET = `${PARENT}/productSets/s`;
const WHOLE = { normalizedVertices: [{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 1 }, { x: 0, y: 1 }] };

let mongo: Awaited<ReturnType<typeof startJongodb>>;
let gcs: FakeGcs;
let a: ServerProcess;
let b: ServerProcess;

beforeAll(async () => {
  mongo = await startJongodb();
  gcs = await startFakeGcs();
  for (const f of ['darknet_dog.jpg', 'skimage_coffee.png', 'darknet_horses.jpg']) gcs.put('photos', f, readFileSync(path.join(devImagesDir(), f)));
  const env = { MONGODB_URI: mongo.uri, STORAGE_EMULATOR_HOST: gcs.host, METAPIXEL_INDEX_POLL_MS: '300' };
  [a, b] = await Promise.all([spawnServer(env, 60000), spawnServer(env, 60000)]);
}, 120000);
afterAll(async () => {
  for (const p of [a, b]) {
    p?.child.kill('SIGTERM');
    await p?.exited;
  }
  await gcs?.close();
  await mongo?.stop();
});

test('a product added through one process is found through the other within 2 s', async () => {
  const viaA = productSearchClient(a, 'grpc');
  await viaA.createProductSet({ parent: PARENT, productSetId: 's', productSet: { displayName: 'S' } });
  const add = async (id: string, file: string) => {
    await viaA.createProduct({ parent: PARENT, productId: id, product: { displayName: id, productCategory: 'general-v1' } });
    await viaA.createReferenceImage({ parent: `${PARENT}/products/${id}`, referenceImage: { uri: `gs://photos/${file}`, boundingPolys: [WHOLE] } });
    await viaA.addProductToProductSet({ name: SET, product: `${PARENT}/products/${id}` });
  };
  await add('coffee', 'skimage_coffee.png');
  await add('horses', 'darknet_horses.jpg');
  await add('dog', 'darknet_dog.jpg');
  const added = Date.now();

  const viaB = imageAnnotatorClient(b, 'rest');
  const query = { image: { content: readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg')) }, imageContext: { productSearchParams: { productSet: SET, productCategories: ['general-v1'], boundingPoly: WHOLE } } };
  let found = '';
  while (Date.now() - added < 5000) {
    const [res] = await viaB.productSearch!(query);
    found = res.productSearchResults?.results?.[0]?.product?.displayName ?? '';
    if (found === 'dog') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(found).toBe('dog');
  expect(Date.now() - added).toBeLessThan(2000);
  await viaA.close();
  await viaB.close();
}, 120000);
