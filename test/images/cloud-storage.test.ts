/**
 * Cloud Storage through @google-cloud/storage against a private bucket: a service account
 * key file is exchanged at its token_uri (a fake OAuth endpoint that verifies the signed
 * assertion) for the one bearer token the bucket accepts; every other way in is refused
 * with Google's wording. Emulator mode sends no credentials.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CloudStorage } from '../../src/images/cloud-storage';
import { GcsImageFetcher } from '../../src/images/gcs-fetch';
import { GcsWriter } from '../../src/images/gcs-writer';
import { GcsTextSource } from '../../src/jobs/import/csv-source';
import { startFakeGcs, type FakeGcs } from '../support/fake-gcs';
import { startFakeOAuth, type FakeOAuth } from '../support/fake-oauth';

const TOKEN = 'ya29.private-bucket-token';
let dir: string;
let gcs: FakeGcs;
let oauth: FakeOAuth;
let goodKey: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-gcs-'));
  gcs = await startFakeGcs({ token: TOKEN });
  oauth = await startFakeOAuth();
  goodKey = path.join(dir, 'reader.json');
  oauth.serviceAccountKey(goodKey, 'reader@test-project.iam.gserviceaccount.com', TOKEN);
  gcs.put('private', 'a/obj.bin', Buffer.from('private bytes'));
});
afterAll(async () => {
  await gcs?.close();
  await oauth?.close();
  rmSync(dir, { recursive: true, force: true });
});

const storage = (keyFile: string) => new CloudStorage({ emulatorHost: '', endpoint: gcs.host, keyFile, timeoutMs: 2000 });
const fetcher = (s: CloudStorage, maxBytes = 1000) => new GcsImageFetcher({ storage: s, localDir: '', timeoutMs: 2000, maxBytes });

test('a key file is exchanged at its token_uri for the bearer token the bucket accepts', async () => {
  const s = storage(goodKey);
  expect((await fetcher(s).fetch('gs://private/a/obj.bin')).toString()).toBe('private bytes');
  expect(oauth.issued).toContain(TOKEN);
  expect(gcs.authorizations.at(-1)).toBe(`Bearer ${TOKEN}`);
  // Writes (async annotate output) through the same credentials, in one request.
  const requests = gcs.requests.length;
  await new GcsWriter({ storage: s, localDir: '', timeoutMs: 2000 }).write(
    'private',
    'out/output-1-to-1.json',
    Buffer.from('{"responses":[]}'),
    'application/json',
  );
  expect(Buffer.from(gcs.get('private', 'out/output-1-to-1.json')!).toString()).toBe('{"responses":[]}');
  expect(gcs.requests.slice(requests)).toEqual([expect.stringMatching(/^\/upload\/storage\/v1\/b\/private\/o\?.*uploadType=multipart/)]);
  // Import CSVs stream through it too.
  const chunks: Buffer[] = [];
  for await (const c of await new GcsTextSource({ storage: s, localDir: '', timeoutMs: 2000 }).open(
    'gs://private/a/obj.bin',
    new AbortController().signal,
  ))
    chunks.push(Buffer.from(c));
  expect(Buffer.concat(chunks).toString()).toBe('private bytes');
  await expect(fetcher(s).fetch('gs://private/missing.jpg')).rejects.toMatchObject({
    code: 5,
    message: 'Cloud Storage object gs://private/missing.jpg not found.',
  });
});

test("a token the bucket does not accept is PERMISSION_DENIED with Google's wording, on reads, CSVs and writes", async () => {
  const other = path.join(dir, 'other.json');
  oauth.serviceAccountKey(other, 'other@test-project.iam.gserviceaccount.com', 'ya29.another-token');
  const s = storage(other);
  await expect(fetcher(s).fetch('gs://private/a/obj.bin')).rejects.toMatchObject({
    code: 7,
    message: 'Error opening file: gs://private/a/obj.bin.',
  });
  expect(gcs.authorizations.at(-1)).toBe('Bearer ya29.another-token');
  await expect(
    new GcsTextSource({ storage: s, localDir: '', timeoutMs: 2000 }).open('gs://private/a/obj.bin', new AbortController().signal),
  ).rejects.toMatchObject({ code: 7 });
  await expect(
    new GcsWriter({ storage: s, localDir: '', timeoutMs: 2000 }).write('private', 'x.json', Buffer.from('{}'), 'application/json'),
  ).rejects.toMatchObject({ code: 7 });
  expect(gcs.get('private', 'x.json')).toBeUndefined();
});

test('a key the token endpoint refuses (signature by an unknown key) is PERMISSION_DENIED, no storage request made', async () => {
  const forged = path.join(dir, 'forged.json');
  oauth.unknownKey(forged, 'reader@test-project.iam.gserviceaccount.com');
  const before = gcs.requests.length;
  await expect(fetcher(storage(forged)).fetch('gs://private/a/obj.bin')).rejects.toMatchObject({
    code: 7,
    message: 'Error opening file: gs://private/a/obj.bin.',
  });
  expect(oauth.refused).toContain('Invalid JWT Signature.');
  expect(gcs.requests.length).toBe(before);
});

test("no credentials at all: requests go anonymous (public buckets work); the private bucket's 401 is PERMISSION_DENIED, a write says what to configure", async () => {
  const anonymous = new CloudStorage({ emulatorHost: gcs.host, endpoint: '', keyFile: '', timeoutMs: 2000 });
  await expect(fetcher(anonymous).fetch('gs://private/a/obj.bin')).rejects.toMatchObject({ code: 7 });
  expect(gcs.authorizations.at(-1)).toBe('');
  const saved = { ...process.env };
  try {
    // No key file, no gcloud credentials, no metadata server: Application Default Credentials find nothing.
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.HOME = dir;
    process.env.CLOUDSDK_CONFIG = dir;
    process.env.METADATA_SERVER_DETECTION = 'none';
    const adc = new CloudStorage({ emulatorHost: '', endpoint: gcs.host, keyFile: '', timeoutMs: 2000 });
    await expect(fetcher(adc).fetch('gs://private/a/obj.bin')).rejects.toMatchObject({
      code: 7,
      message: 'Error opening file: gs://private/a/obj.bin.',
    });
    expect(gcs.authorizations.at(-1)).toBe('');
    const writer = new GcsWriter({ storage: adc, localDir: '', timeoutMs: 2000 });
    await expect(writer.write('private', 'y.json', Buffer.from('{}'), 'application/json')).rejects.toMatchObject({
      code: 9,
      message: expect.stringMatching(/no Cloud Storage credentials.*METAPIXEL_GCS_KEY_FILE/),
    });
  } finally {
    process.env = saved;
  }
});

test('the size cap stops a private read at the cap', async () => {
  gcs.put('private', 'big.bin', Buffer.alloc(64 * 1024));
  await expect(fetcher(storage(goodKey), 1000).fetch('gs://private/big.bin')).rejects.toMatchObject({
    code: 3,
    message: expect.stringMatching(/limit/),
  });
});

test('a bad key file fails at start with its path, not at the first request', () => {
  expect(() => storage(path.join(dir, 'missing.json'))).toThrow(/METAPIXEL_GCS_KEY_FILE .*missing\.json/);
});

test('the deadline covers the whole read: a dripping body and a token endpoint that never answers are cut at it', async () => {
  let closed = false;
  const drip = http.createServer((req, res) => {
    if (req.url?.startsWith('/token')) return; // never answers
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const timer = setInterval(() => res.write('x'), 100);
    res.on('close', () => {
      clearInterval(timer);
      closed = true;
    });
  });
  await new Promise<void>((r) => drip.listen(0, '127.0.0.1', r));
  const host = `http://127.0.0.1:${(drip.address() as AddressInfo).port}`;
  try {
    const emulator = new CloudStorage({ emulatorHost: host, endpoint: '', keyFile: '', timeoutMs: 1000 });
    const fetcher = new GcsImageFetcher({ storage: emulator, localDir: '', timeoutMs: 1000, maxBytes: 1000 });
    let started = Date.now();
    await expect(fetcher.fetch('gs://b/drip.jpg')).rejects.toMatchObject({ code: 4, message: 'Timed out reading gs://b/drip.jpg.' });
    expect(Date.now() - started).toBeLessThan(2000);
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(true); // the request was aborted, not left running
    // A key whose token_uri hangs: the token exchange counts against the same deadline.
    const key = JSON.parse(readFileSync(goodKey, 'utf8')) as Record<string, string>;
    const hanging = path.join(dir, 'hanging.json');
    writeFileSync(hanging, JSON.stringify({ ...key, token_uri: `${host}/token` }));
    const viaKey = new GcsImageFetcher({
      storage: new CloudStorage({ emulatorHost: '', endpoint: gcs.host, keyFile: hanging, timeoutMs: 1000 }),
      localDir: '',
      timeoutMs: 1000,
      maxBytes: 1000,
    });
    started = Date.now();
    await expect(viaKey.fetch('gs://private/a/obj.bin')).rejects.toMatchObject({ code: 4 });
    expect(Date.now() - started).toBeLessThan(2000);
  } finally {
    drip.closeAllConnections();
    await new Promise((r) => drip.close(r));
  }
});
