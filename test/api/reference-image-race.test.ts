/**
 * Issue #15: deleting a product while its reference image was being created answered 409
 * "ReferenceImage … already exists" for an image that does not exist. The storage emulator
 * here holds the image until the product is deleted, so the race happens every time.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expectStatus, productSearchClient, TRANSPORTS } from '../support/clients';
import { patternJpeg, startTestServer, type TestServer } from '../support/server';

let storage: http.Server;
let server: TestServer;
let image: Buffer;
const held: { res: http.ServerResponse; arrived: () => void }[] = [];
let onRequest: () => void = () => undefined;

beforeAll(async () => {
  image = await patternJpeg(800, 800, 5);
  storage = http.createServer((req, res) => {
    held.push({ res, arrived: onRequest });
    onRequest();
  });
  await new Promise<void>((r) => storage.listen(0, '127.0.0.1', r));
  server = await startTestServer({ storageEmulatorHost: `http://127.0.0.1:${(storage.address() as AddressInfo).port}` });
});
afterAll(async () => {
  await server?.stop();
  storage.closeAllConnections();
  await new Promise((r) => storage.close(r));
});

test.each(TRANSPORTS)('over %s: the create fails on the missing product, not ALREADY_EXISTS', async (transport) => {
  const client = productSearchClient(server, transport);
  const parent = `projects/race-${transport}/locations/l`;
  const [product] = await client.createProduct({ parent, productId: 'p', product: { displayName: 'x', productCategory: 'apparel-v2' } });
  const arrived = new Promise<void>((r) => (onRequest = r));
  const creating = client.createReferenceImage({
    parent: product.name!,
    referenceImageId: 'img',
    referenceImage: { uri: 'gs://bucket/img.jpg' },
  });
  await arrived;
  await client.deleteProduct({ name: product.name! });
  const { res } = held.pop()!;
  res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': image.length }).end(image);
  await expectStatus(creating, 'INVALID_ARGUMENT');
  await expectStatus(client.getReferenceImage({ name: `${product.name}/referenceImages/img` }), 'NOT_FOUND');
  await client.close();
});
