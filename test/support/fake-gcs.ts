/**
 * A minimal Cloud Storage JSON API emulator on loopback: serves objects put into it at
 * GET /storage/v1/b/{bucket}/o/{object}?alt=media, and stores media uploads
 * (POST /upload/storage/v1/b/{bucket}/o?uploadType=media&name=…) for `get`/`list`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeGcs {
  host: string;
  put(bucket: string, object: string, body: Uint8Array): void;
  get(bucket: string, object: string): Uint8Array | undefined;
  /** Names of the objects in `bucket` starting with `prefix`, sorted. */
  list(bucket: string, prefix?: string): string[];
  requests: string[];
  close(): Promise<void>;
}

export async function startFakeGcs(): Promise<FakeGcs> {
  const objects = new Map<string, Uint8Array>();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.method === 'POST') return upload(req, res);
    const m = /^\/storage\/v1\/b\/([^/]+)\/o\/([^?]+)\?alt=media$/.exec(req.url ?? '');
    const body = m && objects.get(`${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}`);
    if (!body) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":404,"message":"No such object"}}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
  });
  function upload(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '', 'http://x');
    const m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    const name = url.searchParams.get('name');
    if (!m || url.searchParams.get('uploadType') !== 'media' || !name) {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":400,"message":"Unsupported upload"}}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const bucket = decodeURIComponent(m[1]);
      const body = Buffer.concat(chunks);
      objects.set(`${bucket}/${name}`, body);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'storage#object', bucket, name, size: String(body.length) }));
    });
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `http://127.0.0.1:${port}`,
    put: (bucket, object, body) => objects.set(`${bucket}/${object}`, body),
    get: (bucket, object) => objects.get(`${bucket}/${object}`),
    list: (bucket, prefix = '') =>
      [...objects.keys()].filter((k) => k.startsWith(`${bucket}/${prefix}`)).map((k) => k.slice(bucket.length + 1)).sort(),
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
