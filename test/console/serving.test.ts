/**
 * How the console is served: on by default for loopback binds only, at / and /console/
 * with a CSP that keeps the page on its own origin; and the browser guard admitting the
 * console's own same-origin requests but not a rebound host name's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import http, { type Server } from 'node:http';
import { DEFAULTS } from '../../src/config/config';
import { browserGuard } from '../../src/api/rest/browser-guard';
import { consoleEnabled, consoleRouter } from '../../src/api/rest/console';

/**
 * One request on its own connection (agent: false): fetch's pooled keep-alive sockets would
 * keep the jest worker alive after the servers close.
 */
function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

test('METAPIXEL_CONSOLE=auto is on for loopback binds only', () => {
  expect(DEFAULTS.console).toBe('auto');
  for (const host of ['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost', 'LOCALHOST'])
    expect(consoleEnabled({ console: 'auto', host })).toBe(true);
  for (const host of ['0.0.0.0', '::', '10.0.0.5', 'metapixel.example.com']) expect(consoleEnabled({ console: 'auto', host })).toBe(false);
  expect(consoleEnabled({ console: 'on', host: '0.0.0.0' })).toBe(true);
  expect(consoleEnabled({ console: 'off', host: '127.0.0.1' })).toBe(false);
});

describe('served', () => {
  let dir: string;
  let server: Server;
  let base: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-console-serve-'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><meta charset="utf-8" /><title>console</title>');
    writeFileSync(path.join(dir, 'console.js'), 'export {};');
    const app = express();
    app.use(browserGuard({ corsOrigins: [], allowedHosts: ['console.example', 'localhost'], sameOrigin: true }));
    app.use(consoleRouter(dir, { staging: 'gs://shop-staging/new "photos"/' }));
    app.all(/.*/, (_req, res) => res.json({ api: true }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('/ and /console/ answer the page with a CSP that keeps it on its origin; assets under /console/', async () => {
    for (const p of ['/', '/console/']) {
      const res = await request(base + p);
      expect(res.status).toBe(200);
      expect(res.body).toContain('<title>console</title>');
      expect(res.headers['content-security-policy']).toMatch(/default-src 'none'.*script-src 'self'.*connect-src 'self'/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
    // METAPIXEL_CONSOLE_STAGING reaches the page as a <meta>, escaped.
    const page = await request(`${base}/`);
    expect(page.body).toContain('<meta name="metapixel-staging" content="gs://shop-staging/new &quot;photos&quot;/" />');
    const js = await request(`${base}/console/console.js`);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    const redirect = await request(`${base}/console`);
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/console/');
  });

  test("the page's own requests pass; another origin's and a rebound host name's do not", async () => {
    const port = new URL(base).port;
    // fetch() will not set Host; a raw request does.
    const post = async (origin: string, host?: string) =>
      (
        await request(`${base}/v1/x`, {
          method: 'POST',
          headers: { origin, host: host ?? `127.0.0.1:${port}`, 'content-type': 'application/json' },
          body: '{}',
        })
      ).status;
    expect(await post(`http://127.0.0.1:${port}`)).toBe(200);
    expect(await post(`http://localhost:${port}`, `localhost:${port}`)).toBe(200);
    expect(await post(`http://console.example:${port}`, `console.example:${port}`)).toBe(200);
    expect(await post('http://evil.example')).toBe(403);
    // DNS rebinding: the attacker's name resolves here, so Origin and Host agree; the name is not ours.
    expect(await post(`http://rebind.attacker.example:${port}`, `rebind.attacker.example:${port}`)).toBe(403);
    expect(await post(`http://127.0.0.1:${Number(port) + 1}`)).toBe(403);
  });

  test('without the console, a same-origin page request is refused as before', async () => {
    const app = express();
    app.use(browserGuard({ corsOrigins: [], allowedHosts: [] }));
    app.all(/.*/, (_req, res) => res.json({}));
    const s = app.listen(0, '127.0.0.1');
    await new Promise((r) => s.once('listening', r));
    const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const res = await request(`${url}/v1/x`, { method: 'POST', headers: { origin: url } });
    expect(res.status).toBe(403);
    await new Promise((r) => s.close(r));
  });

  test('an unbuilt console says how to build it', async () => {
    const app = express().use(consoleRouter(path.join(dir, 'missing')));
    const s = app.listen(0, '127.0.0.1');
    await new Promise((r) => s.once('listening', r));
    const res = await request(`http://127.0.0.1:${(s.address() as AddressInfo).port}/`);
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/npm run build/);
    await new Promise((r) => s.close(r));
  });
});
