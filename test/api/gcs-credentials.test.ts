/**
 * Issue #16: reference images and imageUri from a private bucket. The server reads it with
 * a service account key file (METAPIXEL_GCS_KEY_FILE, exchanged at the key's token_uri
 * for the bearer token the bucket accepts); once the bucket stops accepting that token
 * the same calls are PERMISSION_DENIED with Google's wording. Through the real
 * @google-cloud/vision clients on both transports.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expectStatus, imageAnnotatorClient, productSearchClient, TRANSPORTS } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startFakeOAuth, type FakeOAuth } from '../support/fake-oauth';
import { startTestServer, type TestServer } from '../support/server';

const TOKEN = 'ya29.catalog-reader';
let dir: string;
let oauth: FakeOAuth;
let server: TestServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-gcs-cred-'));
  oauth = await startFakeOAuth();
  const keyFile = path.join(dir, 'key.json');
  oauth.serviceAccountKey(keyFile, 'metapixel@catalog-project.iam.gserviceaccount.com', TOKEN);
  server = await startTestServer({ gcsKeyFile: keyFile }, { token: TOKEN });
  server.gcs.put('catalog', 'dog.jpg', readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg')));
});
afterAll(async () => {
  await server?.stop();
  await oauth?.close();
  rmSync(dir, { recursive: true, force: true });
});

const feature = [{ type: 'OBJECT_LOCALIZATION' as const }];
const parent = 'projects/p/locations/us-west1';

describe.each(TRANSPORTS)('over %s', (transport) => {
  test('a reference image and an imageUri from the private bucket are read with the key file', async () => {
    server.gcs.setToken(TOKEN);
    const ps = productSearchClient(server, transport);
    await ps.createProduct({ parent, productId: `dog-${transport}`, product: { displayName: 'dog', productCategory: 'general-v1' } });
    const [image] = await ps.createReferenceImage({
      parent: `${parent}/products/dog-${transport}`,
      referenceImageId: 'r1',
      referenceImage: { uri: 'gs://catalog/dog.jpg' },
    });
    expect(image.name).toBe(`${parent}/products/dog-${transport}/referenceImages/r1`);
    await ps.close();
    const c = imageAnnotatorClient(server, transport);
    const [res] = await c.batchAnnotateImages({
      requests: [{ image: { source: { imageUri: 'gs://catalog/dog.jpg' } }, features: feature }],
    });
    await c.close();
    expect(res.responses![0].error).toBeFalsy();
    expect(res.responses![0].localizedObjectAnnotations!.length).toBeGreaterThan(0);
    expect(server.gcs.authorizations.at(-1)).toBe(`Bearer ${TOKEN}`);
    expect(oauth.issued).toContain(TOKEN);
  });

  test("a token the bucket no longer accepts is PERMISSION_DENIED: 'Error opening file'", async () => {
    server.gcs.setToken('ya29.rotated');
    try {
      const ps = productSearchClient(server, transport);
      await ps.createProduct({ parent, productId: `cat-${transport}`, product: { displayName: 'cat', productCategory: 'general-v1' } });
      const call = ps.createReferenceImage({
        parent: `${parent}/products/cat-${transport}`,
        referenceImage: { uri: 'gs://catalog/dog.jpg' },
      });
      await expectStatus(call, 'PERMISSION_DENIED');
      const err = (await call.catch((e: unknown) => e)) as Error;
      expect(String(err.message)).toContain('Error opening file: gs://catalog/dog.jpg.');
      await ps.close();
      const c = imageAnnotatorClient(server, transport);
      const [res] = await c.batchAnnotateImages({
        requests: [{ image: { source: { gcsImageUri: 'gs://catalog/dog.jpg' } }, features: feature }],
      });
      await c.close();
      expect(res.responses![0].error).toMatchObject({ code: 7, message: 'Error opening file: gs://catalog/dog.jpg.' });
      expect(server.gcs.authorizations.at(-1)).toBe(`Bearer ${TOKEN}`);
    } finally {
      server.gcs.setToken(TOKEN);
    }
  });
});
