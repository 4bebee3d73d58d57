/**
 * Image intake from every source: inline bytes, http(s) with SSRF defences and limits, and
 * gs:// through a Cloud Storage emulator or a local directory.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HttpImageFetcher } from '../../src/images/http-fetch';
import { GcsImageFetcher } from '../../src/images/gcs-fetch';
import { CloudStorage } from '../../src/images/cloud-storage';
import { ImageFetcher } from '../../src/images/image-fetcher';
import { startFakeGcs, type FakeGcs } from '../support/fake-gcs';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
let site: http.Server;
let base: string;
let gcs: FakeGcs;
const emulator = () => new CloudStorage({ emulatorHost: gcs.host, endpoint: '', keyFile: '', timeoutMs: 1000 });
const hung: http.ServerResponse[] = [];

beforeAll(async () => {
  site = http.createServer((req, res) => {
    const u = req.url ?? '';
    if (u === '/img.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    if (u === '/page.html') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
    if (u === '/big') return void res.writeHead(200, { 'content-type': 'image/jpeg' }).end(Buffer.alloc(300_000));
    if (u === '/chunked-big') {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(50_000));
      return void res.end();
    }
    if (u.startsWith('/loop')) return void res.writeHead(302, { location: `/loop${u.length}` }).end();
    if (u === '/to-metadata') return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
    if (u === '/slow') return void hung.push(res);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  gcs = await startFakeGcs();
});
afterAll(async () => {
  hung.forEach((r) => r.destroy());
  await new Promise((r) => site.close(r));
  await gcs.close();
});

const limits = { timeoutMs: 800, maxBytes: 200_000, maxRedirects: 3 };
const open = new HttpImageFetcher({ ...limits, allowList: ['127.0.0.1'] });
const strict = new HttpImageFetcher({ ...limits, allowList: [] });

test('http: an allowed URL is fetched', async () => {
  expect(Buffer.from(await open.fetch(`${base}/img.png`))).toEqual(PNG);
});

test.each([
  ['loopback by default', () => strict.fetch(`${base}/img.png`), 3, /non-public/],
  ['localhost by name', () => strict.fetch(`${base.replace('127.0.0.1', 'localhost')}/img.png`), 3, /non-public/],
  ['the cloud metadata address', () => strict.fetch('http://169.254.169.254/latest/meta-data'), 3, /non-public/],
  ['IPv6 loopback', () => strict.fetch('http://[::1]/x'), 3, /non-public/],
  ['private ranges', () => strict.fetch('http://10.1.2.3/x.jpg'), 3, /non-public/],
  // Issue #15: the IPv4-compatible IPv6 form passed the filter.
  ['IPv4-compatible loopback [::127.0.0.1]', () => strict.fetch('http://[::127.0.0.1]/x.jpg'), 3, /non-public/],
  ['IPv4-compatible private [::10.0.0.1]', () => strict.fetch('http://[::10.0.0.1]/x.jpg'), 3, /non-public/],
  ['IPv4-mapped loopback [::ffff:127.0.0.1]', () => strict.fetch('http://[::ffff:127.0.0.1]/x.jpg'), 3, /non-public/],
  ['a redirect to the metadata address', () => open.fetch(`${base}/to-metadata`), 3, /non-public/],
  ['a 404', () => open.fetch(`${base}/missing.jpg`), 5, /404/],
  ['a non-image content type', () => open.fetch(`${base}/page.html`), 3, /not an image/],
  ['a declared size over the cap', () => open.fetch(`${base}/big`), 3, /limit/],
  ['a streamed size over the cap', () => open.fetch(`${base}/chunked-big`), 3, /limit/],
  ['too many redirects', () => open.fetch(`${base}/loop`), 3, /redirects/],
  ['a slow server', () => open.fetch(`${base}/slow`), 4, /Timed out/],
  [
    'an unsupported scheme',
    () =>
      new ImageFetcher(
        open,
        new GcsImageFetcher({ storage: {} as never /* never reached */, localDir: '', timeoutMs: 1, maxBytes: 1 }),
        1,
      ).fetchUri('file:///etc/passwd'),
    3,
    /Unsupported/,
  ],
])('http: %s is refused with the right code, quickly', async (_what, call, code, message) => {
  const started = Date.now();
  await expect(call()).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  expect(Date.now() - started).toBeLessThan(2000);
});

test('gs:// through the Cloud Storage JSON API emulator', async () => {
  gcs.put('catalog', 'shoes/red shoe.png', PNG);
  const fetcher = new GcsImageFetcher({ storage: emulator(), localDir: '', timeoutMs: 1000, maxBytes: 1000 });
  expect(Buffer.from(await fetcher.fetch('gs://catalog/shoes/red shoe.png'))).toEqual(PNG);
  // The JSON API's own path, and no credentials against an emulator.
  expect(gcs.requests).toContain('/storage/v1/b/catalog/o/shoes%2Fred%20shoe.png?alt=media');
  expect(gcs.authorizations.at(-1)).toBe('');
  await expect(fetcher.fetch('gs://catalog/nope.png')).rejects.toMatchObject({ code: 5 });
  await expect(fetcher.fetch('gs://bucket-only')).rejects.toMatchObject({ code: 3 });
});

test('gs:// from a local bucket directory, without escaping it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gcsdir-'));
  try {
    mkdirSync(path.join(dir, 'b', 'x'), { recursive: true });
    writeFileSync(path.join(dir, 'b', 'x', 'i.png'), PNG);
    const fetcher = new GcsImageFetcher({
      storage: {} as never /* unused with localDir */,
      localDir: dir,
      timeoutMs: 1000,
      maxBytes: 1000,
    });
    expect(Buffer.from(await fetcher.fetch('gs://b/x/i.png'))).toEqual(PNG);
    await expect(fetcher.fetch('gs://b/../../etc/passwd')).rejects.toMatchObject({ code: 3 });
    await expect(fetcher.fetch('gs://b/missing.png')).rejects.toMatchObject({ code: 5 });
    // A directory is no object (issue #15: EISDIR answered 500); a big file is refused unread.
    await expect(fetcher.fetch('gs://b/x')).rejects.toMatchObject({ code: 5 });
    writeFileSync(path.join(dir, 'b', 'big.jpg'), Buffer.alloc(5000));
    await expect(fetcher.fetch('gs://b/big.jpg')).rejects.toMatchObject({ code: 3, message: expect.stringMatching(/limit/) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('content wins over source; size is capped; nothing given is INVALID_ARGUMENT', async () => {
  const fetcher = new ImageFetcher(open, new GcsImageFetcher({ storage: emulator(), localDir: '', timeoutMs: 1000, maxBytes: 1000 }), 100);
  expect(Buffer.from(await fetcher.fetch({ content: PNG, source: { imageUri: 'http://10.0.0.1/x' } }))).toEqual(PNG);
  await expect(fetcher.fetch({ content: Buffer.alloc(101) })).rejects.toMatchObject({ code: 3 });
  await expect(fetcher.fetch({})).rejects.toMatchObject({ code: 3 });
  gcs.put('b', 'o.png', PNG);
  expect(Buffer.from(await fetcher.fetch({ source: { gcsImageUri: 'gs://b/o.png' } }))).toEqual(PNG);
});
