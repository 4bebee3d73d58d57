/**
 * Issue #15 item 6: gs:// was shared by all tenants (key k1 of project A wrote
 * images:asyncBatchAnnotate output into project B's prefix, and any key read any object).
 * With METAPIXEL_GCS_BUCKETS each bucket belongs to projects, and a key reads and writes
 * only its projects' buckets; through the real clients on both transports.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expectStatus, imageAnnotatorClient, productSearchClient, TRANSPORTS, withKey, type Transport } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
const B_OUTPUT = Buffer.from('{"responses":[{"note":"project B\'s own result"}]}');

beforeAll(async () => {
  server = await startTestServer({
    apiKeys: 'k1=proj-a;k2=proj-b;admin=*',
    gcsBuckets: 'proj-a=bucket-a,proj-b=bucket-b,proj-a=shared,proj-b=shared',
  });
  const dog = readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg'));
  for (const bucket of ['bucket-a', 'bucket-b', 'shared', 'nobodys']) server.gcs.put(bucket, 'dog.jpg', dog);
  server.gcs.put('bucket-b', 'results/output-1-to-1.json', B_OUTPUT);
});
afterAll(async () => {
  await server?.stop();
});

const feature = [{ type: 'OBJECT_LOCALIZATION' as const }];
const client = (transport: Transport, key: string) => imageAnnotatorClient(server, transport, transport === 'rest' ? key : undefined);
const opts = (transport: Transport, key: string) => withKey(transport, key);

describe.each(TRANSPORTS)('over %s', (transport) => {
  test("a key reads its project's buckets and shared ones, not another project's or an unmapped one", async () => {
    const c = client(transport, 'k1');
    const image = (bucket: string) => ({ image: { source: { gcsImageUri: `gs://${bucket}/dog.jpg` } }, features: feature });
    const [res] = await c.batchAnnotateImages(
      { requests: ['bucket-a', 'shared', 'bucket-b', 'nobodys'].map(image) },
      opts(transport, 'k1'),
    );
    await c.close();
    const codes = res.responses!.map((r) => r.error?.code ?? 0);
    expect(codes).toEqual([0, 0, 7, 7]);
    expect(res.responses![2].error!.message).toMatch(/bucket-b/);
    expect(res.responses![0].localizedObjectAnnotations!.length).toBeGreaterThan(0);
  });

  test("asyncBatchAnnotate into another project's bucket is PERMISSION_DENIED and B's output stays", async () => {
    const c = client(transport, 'k1');
    const request = {
      parent: 'projects/proj-a',
      requests: [{ image: { source: { gcsImageUri: 'gs://bucket-a/dog.jpg' } }, features: feature }],
      outputConfig: { gcsDestination: { uri: 'gs://bucket-b/results/' } },
    };
    await expectStatus(c.asyncBatchAnnotateImages(request, opts(transport, 'k1')), 'PERMISSION_DENIED');
    // A key for every project still cannot make project A's operation write to B's bucket.
    const admin = client(transport, 'admin');
    await expectStatus(admin.asyncBatchAnnotateImages(request, opts(transport, 'admin')), 'PERMISSION_DENIED');
    await c.close();
    await admin.close();
    expect(Buffer.from(server.gcs.get('bucket-b', 'results/output-1-to-1.json')!)).toEqual(B_OUTPUT);
  });

  test("an operation's worker reads only its project's buckets", async () => {
    const c = client(transport, 'k1');
    const [operation] = await c.asyncBatchAnnotateImages(
      {
        parent: 'projects/proj-a',
        requests: [
          { image: { source: { gcsImageUri: 'gs://bucket-b/dog.jpg' } }, features: feature },
          { image: { source: { gcsImageUri: 'gs://bucket-a/dog.jpg' } }, features: feature },
        ],
        outputConfig: { gcsDestination: { uri: `gs://bucket-a/${transport}/` } },
      },
      opts(transport, 'k1'),
    );
    await operation.promise();
    await c.close();
    const out = JSON.parse(Buffer.from(server.gcs.get('bucket-a', `${transport}/output-1-to-2.json`)!).toString()) as {
      responses: { error?: { code: number } }[];
    };
    expect(out.responses.map((r) => r.error?.code ?? 0)).toEqual([7, 0]);
  });

  test("a reference image from another project's bucket is PERMISSION_DENIED", async () => {
    const ps = productSearchClient(server, transport, transport === 'rest' ? 'k1' : undefined);
    const parent = `projects/proj-a/locations/us-west1`;
    await ps.createProduct(
      { parent, productId: `p-${transport}`, product: { displayName: 'x', productCategory: 'apparel-v2' } },
      opts(transport, 'k1'),
    );
    await expectStatus(
      ps.createReferenceImage(
        { parent: `${parent}/products/p-${transport}`, referenceImage: { uri: 'gs://bucket-b/dog.jpg' } },
        opts(transport, 'k1'),
      ),
      'PERMISSION_DENIED',
    );
    await ps.close();
  });
});
