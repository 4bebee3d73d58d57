/**
 * Issue #15: gRPC allowed unlimited concurrent streams per connection and never closed
 * idle connections. With METAPIXEL_GRPC_MAX_CONCURRENT_STREAMS the server advertises the
 * cap in its HTTP/2 SETTINGS and holds a connection to it: calls beyond it wait in the
 * client (grpc-js queues them until a stream closes) and none is lost; with
 * METAPIXEL_GRPC_IDLE_TIMEOUT_MS a connection without calls is closed (GOAWAY) after that
 * long. Short settings, so the test takes seconds.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { imageAnnotatorClient } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

const STREAMS = 2;
const IDLE_MS = 1000;
const dog = readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg'));
let server: TestServer;
/** An image server that holds every request until released: each held one is a stream held open. */
let images: http.Server;
let imagesUrl: string;
const held: http.ServerResponse[] = [];
let peak = 0;

beforeAll(async () => {
  images = http.createServer((_req, res) => {
    held.push(res);
    peak = Math.max(peak, held.length);
  });
  await new Promise<void>((r) => images.listen(0, '127.0.0.1', r));
  imagesUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
  server = await startTestServer({
    grpcMaxConcurrentStreams: STREAMS,
    grpcIdleTimeoutMs: IDLE_MS,
    urlAllowList: '127.0.0.1',
    fetchTimeoutMs: 30000,
  });
}, 60000);
afterAll(async () => {
  for (const r of held.splice(0)) r.destroy();
  await new Promise((r) => images.close(r));
  await server?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the stream cap is advertised; calls beyond it on one connection wait, and all are answered', async () => {
  const client = imageAnnotatorClient(server, 'grpc');
  const call = (i: number) =>
    client.batchAnnotateImages({
      requests: [{ image: { source: { imageUri: `${imagesUrl}/dog-${i}.jpg` } }, features: [{ type: 'OBJECT_LOCALIZATION' }] }],
    });
  const calls = Array.from({ length: 5 }, (_, i) => call(i));
  await sleep(1500);
  // Five calls on one channel, two streams at a time: two images are being fetched.
  expect(held.length).toBe(STREAMS);
  const answered: number[] = [];
  calls.forEach((c, i) => void c.then(() => answered.push(i)));
  while (answered.length < 5) {
    for (const r of held.splice(0)) r.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': dog.length }).end(dog);
    await sleep(100);
  }
  const results = await Promise.all(calls);
  for (const [res] of results) expect(res.responses![0].error).toBeFalsy();
  expect(peak).toBe(STREAMS);
  await client.close();
}, 60000);

/** A bare HTTP/2 connection to the gRPC port, and when the server ended it. */
async function connect(): Promise<{ session: http2.ClientHttp2Session; opened: number; ended: Promise<number> }> {
  const session = http2.connect(`http://127.0.0.1:${server.grpcPort}`);
  const ended = new Promise<number>((resolve) => {
    session.once('goaway', () => resolve(Date.now()));
    session.once('close', () => resolve(Date.now()));
  });
  session.on('error', () => undefined);
  await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
  return { session, opened: Date.now(), ended };
}

test('the server advertises its stream cap in SETTINGS', async () => {
  const { session } = await connect();
  expect(session.remoteSettings.maxConcurrentStreams).toBe(STREAMS);
  session.destroy();
});

test('a connection without calls is closed after the idle timeout', async () => {
  const { session, opened, ended } = await connect();
  const closedAfter = (await ended) - opened;
  expect(closedAfter).toBeGreaterThanOrEqual(IDLE_MS - 100);
  expect(closedAfter).toBeLessThan(IDLE_MS * 3);
  session.destroy();
});

test('a connection with a call in progress is not closed for idleness', async () => {
  const client = imageAnnotatorClient(server, 'grpc');
  const call = client.batchAnnotateImages({
    requests: [{ image: { source: { imageUri: `${imagesUrl}/slow.jpg` } }, features: [{ type: 'OBJECT_LOCALIZATION' }] }],
  });
  // The call's stream stays open three idle periods before its image arrives.
  await sleep(IDLE_MS * 3);
  expect(held.length).toBe(1);
  held.splice(0)[0].writeHead(200, { 'content-type': 'image/jpeg', 'content-length': dog.length }).end(dog);
  const [res] = await call;
  expect(res.responses![0].error).toBeFalsy();
  expect(res.responses![0].localizedObjectAnnotations!.length).toBeGreaterThan(0);
  await client.close();
}, 30000);
