/**
 * Bad input to images:annotate: every bad image gets its own error with the right code,
 * quickly, its good neighbours still get answers, and the server stays healthy.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { imageAnnotatorClient, TRANSPORTS } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startFakeGcs, type FakeGcs } from '../support/fake-gcs';
import { startTestServer, type TestServer } from '../support/server';
import { pngBomb } from '../support/png-bomb';

// The test site listens on 127.0.0.2, which the server allow-lists; 127.0.0.1 stays refused.
const SITE_HOST = '127.0.0.2';
let site: http.Server;
let siteUrl: string;
let gcs: FakeGcs;
let server: TestServer;
const hung: http.ServerResponse[] = [];

beforeAll(async () => {
  site = http.createServer((req, res) => {
    if (req.url === '/slow.jpg') return void hung.push(res);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => site.listen(0, SITE_HOST, r));
  siteUrl = `http://${SITE_HOST}:${(site.address() as { port: number }).port}`;
  gcs = await startFakeGcs();
  server = await startTestServer({ storageEmulatorHost: gcs.host, urlAllowList: SITE_HOST, fetchTimeoutMs: 1500 });
});
afterAll(async () => {
  hung.forEach((r) => r.destroy());
  await new Promise((r) => site.close(r));
  await server?.stop();
  await gcs?.close();
});

const feature = [{ type: 'OBJECT_LOCALIZATION' as const }];

describe.each(TRANSPORTS)('over %s', (transport) => {
  test('each bad image gets the right error, quickly; the good one is answered', async () => {
    const dog = readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg'));
    const onePixel = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    const cases: [string, object, number, RegExp][] = [
      ['truncated JPEG', { content: dog.subarray(0, dog.length / 3) }, 3, /Bad image data/],
      ['random bytes', { content: Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 2654435761) % 251)) }, 3, /Bad image data/],
      ['1-pixel image', { content: onePixel }, 3, /too small/],
      ['30000×30000 PNG bomb', { content: pngBomb(30000, 30000) }, 3, /too large/],
      ['URL on 127.0.0.1', { source: { imageUri: 'http://127.0.0.1:9/x.jpg' } }, 3, /non-public/],
      ['cloud metadata URL', { source: { imageUri: 'http://169.254.169.254/computeMetadata/v1/' } }, 3, /non-public/],
      ['slow server', { source: { imageUri: `${siteUrl}/slow.jpg` } }, 4, /Timed out/],
      ['404', { source: { imageUri: `${siteUrl}/missing.jpg` } }, 5, /404/],
      ['missing gs:// object', { source: { imageUri: 'gs://photos/nope.jpg' } }, 5, /not found/],
    ];
    const client = imageAnnotatorClient(server, transport);
    const started = Date.now();
    const [res] = await client.batchAnnotateImages({
      requests: [...cases.map(([, image]) => ({ image, features: feature })), { image: { content: dog }, features: feature }],
    });
    const elapsed = Date.now() - started;
    const got = res.responses!.map((r) => (r.error ? { code: r.error.code, message: r.error.message } : null));
    cases.forEach(([what, , code, message], i) => {
      expect({ what, code: got[i]?.code, ok: message.test(got[i]?.message ?? '') }).toEqual({ what, code, ok: true });
    });
    expect(got[cases.length]).toBeNull();
    expect(res.responses![cases.length].localizedObjectAnnotations!.length).toBeGreaterThan(0);
    // The slow server is cut off at the 1.5 s fetch timeout; nothing else takes long.
    expect(elapsed).toBeLessThan(8000);
    await client.close();
  });
});

describe('request-level limits (raw HTTP: clients cannot send these)', () => {
  const post = (body: string) =>
    fetch(`${server.restUrl}/v1/images:annotate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  test("a 25 MB payload is refused with Google's error body", async () => {
    const res = await post(
      JSON.stringify({ requests: [{ image: { content: Buffer.alloc(19_000_000).toString('base64') }, features: feature }] }),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: 400, status: 'INVALID_ARGUMENT', message: expect.stringMatching(/payload size exceeds the limit/) },
    });
  });

  test('invalid base64 is INVALID_ARGUMENT naming the field', async () => {
    const res = await post(JSON.stringify({ requests: [{ image: { content: '!!!not*base64!!!' }, features: feature }] }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/requests/);
  });

  test('more than 16 images is INVALID_ARGUMENT', async () => {
    const one = { image: { source: { imageUri: 'gs://photos/x.jpg' } }, features: feature };
    const res = await post(JSON.stringify({ requests: Array(17).fill(one) }));
    expect(res.status).toBe(400);
  });

  test('the server is still healthy', async () => {
    expect((await fetch(`${server.restUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.restUrl}/readyz`)).status).toBe(200);
  });
});
