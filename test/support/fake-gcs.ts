/**
 * A minimal Cloud Storage JSON API emulator on loopback: serves objects put into it at
 * GET /storage/v1/b/{bucket}/o/{object}?alt=media, the only call Metapixel makes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeGcs {
  host: string;
  put(bucket: string, object: string, body: Uint8Array): void;
  requests: string[];
  close(): Promise<void>;
}

export async function startFakeGcs(): Promise<FakeGcs> {
  const objects = new Map<string, Uint8Array>();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const m = /^\/storage\/v1\/b\/([^/]+)\/o\/([^?]+)\?alt=media$/.exec(req.url ?? '');
    const body = m && objects.get(`${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}`);
    if (!body) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":404,"message":"No such object"}}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `http://127.0.0.1:${port}`,
    put: (bucket, object, body) => objects.set(`${bucket}/${object}`, body),
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
