/**
 * Issue #15: REST sockets slowly sending a body stayed open past 130 s, and connections
 * were not capped. What is asserted is what the slow client managed to send before the
 * server closed on it, so the test does not depend on the machine's speed.
 */
import http from 'node:http';
import net from 'node:net';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    httpHeadersTimeoutMs: 1000,
    httpRequestTimeoutMs: 1500,
    httpMaxConnections: 4,
    httpKeepAliveTimeoutMs: 2500,
  });
});
afterAll(async () => {
  await server?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Connects, writes `head`, then drips one byte every 200 ms for up to 10 s; resolves with the bytes dripped and what came back. */
async function drip(head: string): Promise<{ dripped: number; answer: string }> {
  const socket = net.connect(server.restPort, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  let answer = '';
  let open = true;
  socket.on('data', (d) => (answer += d.toString()));
  socket.on('close', () => (open = false));
  socket.on('error', () => (open = false));
  socket.write(head);
  let dripped = 0;
  for (; open && dripped < 50; dripped++) {
    socket.write('x');
    await sleep(200);
  }
  socket.destroy();
  return { dripped, answer };
}

test('a body dripped byte by byte is cut at the request deadline (408)', async () => {
  const { dripped, answer } = await drip(
    'POST /v1/projects/p/locations/l/productSets HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n',
  );
  // 10 s of drip is 50 bytes; cut at 1.5 s it is about 8 (the check runs each second).
  expect(dripped).toBeLessThan(25);
  expect(answer).toMatch(/^HTTP\/1\.1 408/);
});

test('headers dripped byte by byte are cut at the headers deadline', async () => {
  const { dripped } = await drip('GET /healthz HTTP/1.1\r\nX-Slow: ');
  expect(dripped).toBeLessThan(25);
});

test('connections beyond the cap are closed at once; the others still work', async () => {
  const sockets = await Promise.all(
    Array.from({ length: 4 }, async () => {
      const s = net.connect(server.restPort, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      return s;
    }),
  );
  await sleep(100);
  const extra = net.connect(server.restPort, '127.0.0.1');
  const closed = await new Promise<boolean>((resolve) => {
    extra.on('close', () => resolve(true));
    extra.on('error', () => resolve(true));
    extra.on('connect', () => extra.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
    extra.on('data', () => resolve(false));
  });
  expect(closed).toBe(true);
  sockets.forEach((s) => s.destroy());
  await sleep(200);
  expect((await fetch(`${server.restUrl}/healthz`)).status).toBe(200);
});

test('an idle keep-alive connection outlives the headers deadline and closes at the keep-alive timeout', async () => {
  const agent = new http.Agent({ keepAlive: true });
  /** One request: whether it went out on a connection the agent kept, and that connection. */
  const get = () =>
    new Promise<{ reused: boolean; socket: net.Socket }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: server.restPort, path: '/healthz', agent }, (res) => {
        const socket = res.socket; // the agent detaches it once the response ends
        res.resume();
        res.on('end', () => resolve({ reused: req.reusedSocket, socket }));
      });
      req.on('error', reject);
    });
  try {
    expect((await get()).reused).toBe(false);
    await sleep(1200); // past the 1 s headers deadline: an idle connection is not a slow request
    const { reused, socket } = await get();
    expect(reused).toBe(true);
    // No request is sent near the timeout (that is the very race the setting avoids for
    // real clients): the test waits for the server to close the idle connection.
    const idleSince = Date.now();
    await new Promise((resolve) => socket.once('close', resolve));
    const idleMs = Date.now() - idleSince;
    // 2.5 s configured; Node's own default would be 5 s.
    expect(idleMs).toBeGreaterThanOrEqual(2000);
    expect(idleMs).toBeLessThan(4500);
  } finally {
    agent.destroy();
  }
});
