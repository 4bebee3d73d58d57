/**
 * The Cloud Storage media routes served with the console (issue #17: a browser cannot read
 * or write gs://): an image uploaded through the server lands where CreateReferenceImage
 * reads it, and its bytes come back through Google's own Storage client pointed at the
 * server; only images pass, within the size limit, the key and bucket rules of every call.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Storage } from '@google-cloud/storage';
import { productSearchClient } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

const dog = readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg'));

/** One request on its own connection, as the console's fetch makes it. */
async function send(
  server: TestServer,
  pathAndQuery: string,
  init: { method?: string; headers?: Record<string, string>; body?: Uint8Array },
) {
  const res = await fetch(`${server.restUrl}${pathAndQuery}`, { ...init, headers: { connection: 'close', ...init.headers } });
  const body = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    headers: res.headers,
    body,
    json: () => JSON.parse(body.toString('utf8')) as { error?: { status: string; message: string } },
  };
}
const upload = (
  server: TestServer,
  bucket: string,
  name: string,
  body: Uint8Array,
  contentType = 'image/jpeg',
  headers: Record<string, string> = {},
) =>
  send(server, `/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(name)}`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body,
  });
const download = (server: TestServer, bucket: string, name: string, headers: Record<string, string> = {}) =>
  send(server, `/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}?alt=media`, { headers });

describe('with the console (loopback bind), no keys', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ maxImageBytes: 400_000 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('an uploaded photo is stored at gs://, indexed by CreateReferenceImage, and read back by the Storage client', async () => {
    const res = await upload(server, 'staging', 'shop/dog 1.jpg', dog);
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      kind: 'storage#object',
      bucket: 'staging',
      name: 'shop/dog 1.jpg',
      size: String(dog.length),
      contentType: 'image/jpeg',
    });
    expect(Buffer.from(server.gcs.get('staging', 'shop/dog 1.jpg')!).equals(dog)).toBe(true);

    const ps = productSearchClient(server, 'rest');
    const parent = 'projects/media/locations/us-west1';
    const [product] = await ps.createProduct({ parent, productId: 'dog', product: { displayName: 'Dog', productCategory: 'general-v1' } });
    const [ref] = await ps.createReferenceImage({
      parent: product.name!,
      referenceImageId: 'r1',
      referenceImage: { uri: 'gs://staging/shop/dog 1.jpg' },
    });
    expect(ref.boundingPolys!.length).toBeGreaterThan(0);

    // Google's Node Storage client, pointed at the server, downloads as it would from Google.
    const storage = new Storage({ apiEndpoint: server.restUrl, projectId: 'media', useAuthWithCustomEndpoint: false });
    const [bytes] = await storage.bucket('staging').file('shop/dog 1.jpg').download({ validation: false });
    expect(bytes.equals(dog)).toBe(true);
    const direct = await download(server, 'staging', 'shop/dog 1.jpg');
    expect(direct.headers.get('content-type')).toBe('image/jpeg');
    expect(direct.headers.get('x-content-type-options')).toBe('nosniff');
    expect(direct.headers.get('cross-origin-resource-policy')).toBe('same-origin');
  });

  test('only images, within the size limit, as the whole body with an image/* type', async () => {
    const notImage = await upload(server, 'staging', 'x.jpg', Buffer.from('<script>alert(1)</script>'));
    expect(notImage.status).toBe(400);
    expect(notImage.json().error!.message).toMatch(/Only images/);
    // A form's types (what a page elsewhere can post without asking) are never read.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await upload(server, 'staging', 'y.jpg', dog, type);
      expect(r.status).toBe(400);
      expect(r.json().error!.status).toBe('INVALID_ARGUMENT');
    }
    expect(server.gcs.get('staging', 'x.jpg')).toBeUndefined();
    expect(server.gcs.get('staging', 'y.jpg')).toBeUndefined();
    const big = await upload(server, 'staging', 'big.jpg', Buffer.concat([dog, Buffer.alloc(400_000)]));
    expect(big.status).toBe(400);
    expect(big.json().error!.message).toMatch(/exceeds the limit/);
    const noName = await upload(server, 'staging', '', dog);
    expect(noName.json().error!.message).toMatch(/name/);
    const resumable = await send(server, '/upload/storage/v1/b/staging/o?uploadType=resumable&name=z.jpg', {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: dog,
    });
    expect(resumable.status).toBe(400);
    expect(resumable.json().error!.message).toMatch(/uploadType=media/);
  });

  test('downloads: images only, a missing object is NOT_FOUND, the JSON metadata form is not served', async () => {
    server.gcs.put('staging', 'catalog.csv', Buffer.from('gs://a/b.jpg,,s,p,general-v1,,\n'));
    const csv = await download(server, 'staging', 'catalog.csv');
    expect(csv.status).toBe(400);
    expect(csv.json().error!.status).toBe('FAILED_PRECONDITION');
    expect((await download(server, 'staging', 'none.jpg')).status).toBe(404);
    const meta = await send(server, '/storage/v1/b/staging/o/catalog.csv', {});
    expect(meta.status).toBe(400);
    expect(meta.json().error!.message).toMatch(/alt=media/);
  });
});

test("with keys and bucket owners: a key reaches only its projects' buckets, and none without a key", async () => {
  const server = await startTestServer({ apiKeys: 'k1=proj-a;k2=proj-b', gcsBuckets: 'proj-a=bucket-a,proj-b=bucket-b' });
  try {
    server.gcs.put('bucket-b', 'b.jpg', dog);
    expect((await upload(server, 'bucket-a', 'a.jpg', dog)).status).toBe(401);
    expect((await upload(server, 'bucket-a', 'a.jpg', dog, 'image/jpeg', { 'x-goog-api-key': 'k1' })).status).toBe(200);
    expect((await upload(server, 'bucket-b', 'a.jpg', dog, 'image/jpeg', { 'x-goog-api-key': 'k1' })).status).toBe(403);
    expect(server.gcs.get('bucket-b', 'a.jpg')).toBeUndefined();
    expect((await download(server, 'bucket-b', 'b.jpg')).status).toBe(401);
    expect((await download(server, 'bucket-b', 'b.jpg', { 'x-goog-api-key': 'k1' })).status).toBe(403);
    const own = await download(server, 'bucket-b', 'b.jpg', { 'x-goog-api-key': 'k2' });
    expect(own.status).toBe(200);
    expect(own.body.equals(dog)).toBe(true);
  } finally {
    await server.stop();
  }
});

test('without the console the routes are not served', async () => {
  const server = await startTestServer({ console: 'off' });
  try {
    server.gcs.put('staging', 'a.jpg', dog);
    expect((await download(server, 'staging', 'a.jpg')).status).toBe(404);
    expect((await upload(server, 'staging', 'b.jpg', dog)).status).toBe(404);
    expect(server.gcs.get('staging', 'b.jpg')).toBeUndefined();
  } finally {
    await server.stop();
  }
});
