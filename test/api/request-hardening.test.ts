/**
 * Issue #15's request-level defects, each reproduced over raw HTTP (what a browser page or
 * a careless script sends; Google's own clients cannot send these).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const feature = [{ type: 'OBJECT_LOCALIZATION' }];
const annotate = (body: string) =>
  fetch(`${server.restUrl}/v1/images:annotate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('line-wrapped base64 (issue #15 item 9)', () => {
  const dog = readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg'));

  test.each([
    ['the base64 command (76-column lines, trailing newline)', () => execFileSync('base64', { input: dog }).toString()],
    ["Python's encodebytes (76 columns, trailing newline)", () => dog.toString('base64').replace(/.{76}/g, '$&\n') + '\n'],
    ['CRLF line breaks', () => dog.toString('base64').replace(/.{64}/g, '$&\r\n') + '\r\n'],
  ])('%s is accepted', async (_what, encode) => {
    const content = encode();
    expect(content).toMatch(/=\s+$/); // the dog's length leaves padding before the final break
    const res = await annotate(JSON.stringify({ requests: [{ image: { content }, features: feature }] }));
    const body = (await res.json()) as { responses: { localizedObjectAnnotations?: unknown[]; error?: unknown }[] };
    expect(res.status).toBe(200);
    expect(body.responses[0].error).toBeUndefined();
    expect(body.responses[0].localizedObjectAnnotations!.length).toBeGreaterThan(0);
  });

  test('bad base64 names the field and the rule, never a regex', async () => {
    const res = await annotate(JSON.stringify({ requests: [{ image: { content: '!!!not*base64!!!' }, features: feature }] }));
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { message: string } };
    expect(error.message).toMatch(/requests\.0\.image\.content|requests\[0\]\.image\.content/);
    expect(error.message).toMatch(/base64/);
    expect(error.message).not.toMatch(/pattern|\^|\$"/);
  });
});

describe('cross-site requests (issue #15 item 2)', () => {
  const parent = '/v1/projects/xsite/locations/l';
  const purgeBody = JSON.stringify({ deleteOrphanProducts: true, force: true });
  const createProduct = (id: string) =>
    fetch(`${server.restUrl}${parent}/products?productId=${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ displayName: id, productCategory: 'apparel-v2' }),
    });
  const count = async () => {
    const res = await fetch(`${server.restUrl}${parent}/products`);
    return (((await res.json()) as { products?: unknown[] }).products ?? []).length;
  };

  beforeAll(async () => {
    for (const id of ['p1', 'p2']) expect((await createProduct(id)).status).toBe(200);
  });

  test('a text/plain purge (a form or no-cors fetch from any page) is refused and the catalog stays', async () => {
    const res = await fetch(`${server.restUrl}${parent}/products:purge`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: purgeBody,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: 400, status: 'INVALID_ARGUMENT', message: expect.stringMatching(/application\/json/) },
    });
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await fetch(`${server.restUrl}${parent}/products:purge`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: purgeBody,
      });
      expect(r.status).toBe(400);
    }
    expect(await count()).toBe(2);
  });

  test('a JSON request carrying a foreign Origin is refused before it runs', async () => {
    const res = await fetch(`${server.restUrl}${parent}/products:purge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: purgeBody,
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { status: string } }).error.status).toBe('PERMISSION_DENIED');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    // A DNS-rebound page is same-origin with itself (Origin and Host both name the
    // attacker's host): refused all the same, although the console (on for this loopback
    // bind) admits its own page's requests, since those come by an IP literal or localhost.
    const rebound = await new Promise<number>((resolve, reject) => {
      const host = `rebind.attacker.example:${server.restPort}`;
      const req = http.request(
        {
          host: '127.0.0.1',
          port: server.restPort,
          path: `${parent}/products:purge`,
          method: 'POST',
          headers: { host, origin: `http://${host}`, 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(purgeBody);
    });
    expect(rebound).toBe(403);
    expect(await count()).toBe(2);
  });

  test('a CORS preflight gets no permission by default', async () => {
    const res = await fetch(`${server.restUrl}${parent}/products:purge`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.status).toBeGreaterThanOrEqual(400);
  });
});

describe('allow-listed origins and hosts', () => {
  let allowed: TestServer;
  beforeAll(async () => {
    allowed = await startTestServer({ corsOrigins: 'https://app.example', allowedHosts: 'metapixel.internal' });
  });
  afterAll(async () => {
    await allowed?.stop();
  });

  test('an allow-listed origin gets CORS answers and is served', async () => {
    const pre = await fetch(`${allowed.restUrl}/v1/projects/c/locations/l/productSets`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-goog-api-key',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/x-goog-api-key/);
    const res = await fetch(`${allowed.restUrl}/v1/projects/c/locations/l/productSets`, {
      method: 'POST',
      headers: { origin: 'https://app.example', 'content-type': 'application/json' },
      body: JSON.stringify({ displayName: 'from the app' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await fetch(`${allowed.restUrl}/v1/projects/c/locations/l/productSets`, { headers: { origin: 'https://other.example' } });
    expect(other.status).toBe(403);
  });

  test('a Host outside METAPIXEL_ALLOWED_HOSTS (a rebound DNS name) is refused; IP literals pass', async () => {
    const http = await import('node:http');
    const get = (host: string) =>
      new Promise<number>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: allowed.restPort, path: '/v1/projects/c/locations/l/productSets', headers: { host } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject);
      });
    expect(await get('attacker.example:8080')).toBe(403);
    expect(await get('metapixel.internal:8080')).toBe(200);
    expect(await get(`127.0.0.1:${allowed.restPort}`)).toBe(200);
  });
});

describe('numbers out of range are refused, never wrapped (issue #15)', () => {
  test.each([
    ['pageSize=4294967297', '/v1/projects/n/locations/l/products?pageSize=4294967297'],
    ['pageSize=2147483648', '/v1/projects/n/locations/l/products?pageSize=2147483648'],
    ['pageSize=-4294967295', '/v1/projects/n/locations/l/productSets?pageSize=-4294967295'],
  ])('%s is INVALID_ARGUMENT', async (_what, url) => {
    const res = await fetch(`${server.restUrl}${url}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/pageSize.*out of range|pageSize.*must be/);
  });

  test('maxResults "4294967306" in a body is INVALID_ARGUMENT', async () => {
    const res = await annotate(
      JSON.stringify({
        requests: [
          { image: { source: { imageUri: 'gs://b/o.jpg' } }, features: [{ type: 'OBJECT_LOCALIZATION', maxResults: '4294967306' }] },
        ],
      }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/maxResults.*out of range/);
  });
});
