/**
 * Issue #15 items 3 and 4, through the real ImageAnnotatorClient: METAPIXEL_FETCH_TIMEOUT_MS
 * is a deadline for the whole fetch (a server dripping bytes is cut at it), and the size
 * cap stops a streamed body at the cap (nothing past it is read or held), for imageUri and
 * for gs:// objects. What the tests assert is what the far side managed to send, so they
 * do not depend on the machine's speed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { imageAnnotatorClient, TRANSPORTS } from '../support/clients';
import { startTestServer, type TestServer } from '../support/server';

const SITE_HOST = '127.0.0.2';
const CAP = 2 * 1024 * 1024;
const HUGE = 200 * 1024 * 1024;

/** Counts what each response managed to write before its connection closed. */
class Streamer {
  readonly sent = new Map<string, number>();
  readonly closed = new Map<string, Promise<void>>();

  /** Writes `total` bytes in 64 KiB chunks as fast as the reader takes them, no length header. */
  async stream(key: string, res: http.ServerResponse, total: number, type = 'image/jpeg'): Promise<void> {
    res.writeHead(200, { 'content-type': type });
    this.sent.set(key, 0);
    let open = true;
    this.closed.set(
      key,
      new Promise((r) =>
        res.on('close', () => {
          open = false;
          r();
        }),
      ),
    );
    const chunk = Buffer.alloc(64 * 1024, 0xab);
    while (open && this.sent.get(key)! < total) {
      this.sent.set(key, this.sent.get(key)! + chunk.length);
      if (!res.write(chunk))
        await new Promise((r) => {
          res.once('drain', r);
          res.once('close', r);
        });
    }
    if (open) res.end();
  }

  /** One byte every 200 ms for `seconds`, then the end. */
  async drip(key: string, res: http.ServerResponse, seconds: number): Promise<void> {
    res.writeHead(200, { 'content-type': 'image/jpeg' });
    this.sent.set(key, 0);
    let open = true;
    this.closed.set(
      key,
      new Promise((r) =>
        res.on('close', () => {
          open = false;
          r();
        }),
      ),
    );
    for (let i = 0; open && i < seconds * 5; i++) {
      res.write(Buffer.from([0xff]));
      this.sent.set(key, i + 1);
      await new Promise((r) => setTimeout(r, 200));
    }
    if (open) res.end();
  }
}

const streamer = new Streamer();
let site: http.Server;
let siteUrl: string;
let storage: http.Server;
let server: TestServer;

beforeAll(async () => {
  site = http.createServer((req, res) => {
    const key = req.url ?? '';
    if (key.startsWith('/drip')) return void streamer.drip(key, res, 8);
    if (key.startsWith('/huge')) return void streamer.stream(key, res, HUGE);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => site.listen(0, SITE_HOST, r));
  siteUrl = `http://${SITE_HOST}:${(site.address() as AddressInfo).port}`;
  // A storage emulator that streams a 200 MB object without content-length.
  storage = http.createServer((req, res) => {
    const m = /^\/storage\/v1\/b\/([^/]+)\/o\/([^?]+)\?alt=media$/.exec(req.url ?? '');
    if (!m) return void res.writeHead(404).end();
    void streamer.stream(`gs:${decodeURIComponent(m[2])}`, res, HUGE, 'application/octet-stream');
  });
  await new Promise<void>((r) => storage.listen(0, '127.0.0.1', r));
  server = await startTestServer({
    urlAllowList: SITE_HOST,
    fetchTimeoutMs: 1500,
    maxImageBytes: CAP,
    storageEmulatorHost: `http://127.0.0.1:${(storage.address() as AddressInfo).port}`,
  });
});
afterAll(async () => {
  await server?.stop();
  site.closeAllConnections();
  storage.closeAllConnections();
  await new Promise((r) => site.close(r));
  await new Promise((r) => storage.close(r));
});

const feature = [{ type: 'OBJECT_LOCALIZATION' as const }];

describe.each(TRANSPORTS)('over %s', (transport) => {
  test('a server dripping one byte every 200 ms is cut at the 1.5 s deadline (item 3)', async () => {
    const client = imageAnnotatorClient(server, transport);
    const key = `/drip-${transport}`;
    const [res] = await client.batchAnnotateImages({
      requests: [{ image: { source: { imageUri: `${siteUrl}${key}` } }, features: feature }],
    });
    await client.close();
    expect(res.responses![0].error).toMatchObject({ code: 4, message: expect.stringMatching(/Timed out/) });
    await streamer.closed.get(key);
    // 8 s of drip would be 40 bytes; cut at 1.5 s it is about 8 (±1 s is 5 more either way).
    expect(streamer.sent.get(key)).toBeLessThanOrEqual(13);
  });

  test('an imageUri streaming 200 MB without content-length is cut at the cap (item 4)', async () => {
    const client = imageAnnotatorClient(server, transport);
    const key = `/huge-${transport}`;
    const [res] = await client.batchAnnotateImages({
      requests: [{ image: { source: { imageUri: `${siteUrl}${key}` } }, features: feature }],
    });
    await client.close();
    expect(res.responses![0].error).toMatchObject({ code: 3, message: expect.stringMatching(/limit/) });
    await streamer.closed.get(key);
    // Read up to the cap, then the connection is closed: only socket buffers beyond it.
    expect(streamer.sent.get(key)!).toBeLessThan(CAP + 16 * 1024 * 1024);
  });

  test('a 200 MB gs:// object streamed without content-length is cut at the cap (item 4)', async () => {
    const client = imageAnnotatorClient(server, transport);
    const object = `big-${transport}.jpg`;
    const [res] = await client.batchAnnotateImages({
      requests: [{ image: { source: { gcsImageUri: `gs://bucket/${object}` } }, features: feature }],
    });
    await client.close();
    expect(res.responses![0].error).toMatchObject({ code: 3, message: expect.stringMatching(/limit/) });
    await streamer.closed.get(`gs:${object}`);
    expect(streamer.sent.get(`gs:${object}`)!).toBeLessThan(CAP + 16 * 1024 * 1024);
  });
});
