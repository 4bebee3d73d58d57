/**
 * A minimal Cloud Storage JSON API emulator on loopback, faithful where Google's client
 * library looks: serves objects at GET /storage/v1/b/{bucket}/o/{object}?alt=media (with
 * x-goog-hash and x-goog-stored-content-encoding, so the client checks its CRC32C), stores
 * media and multipart uploads (POST /upload/storage/v1/b/{bucket}/o) answering the object
 * resource with its crc32c and md5Hash. With `token` set it is a private bucket: a request
 * without `Authorization: Bearer <token>` is 401, one with another token 403, as Google
 * answers.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CRC32C } from '@google-cloud/storage';

export interface FakeGcs {
  host: string;
  put(bucket: string, object: string, body: Uint8Array): void;
  get(bucket: string, object: string): Uint8Array | undefined;
  /** Names of the objects in `bucket` starting with `prefix`, sorted. */
  list(bucket: string, prefix?: string): string[];
  requests: string[];
  /** The Authorization header of each request, in order ('' when none). */
  authorizations: string[];
  /** Changes the one bearer token accepted (a key rotated, access revoked). */
  setToken(token: string | undefined): void;
  close(): Promise<void>;
}

export interface FakeGcsOptions {
  /** The only bearer token accepted; unset, no credentials are needed (an emulator). */
  token?: string;
}

function googleError(res: http.ServerResponse, code: number, message: string, reason: string) {
  res
    .writeHead(code, { 'content-type': 'application/json; charset=UTF-8' })
    .end(JSON.stringify({ error: { code, message, errors: [{ message, domain: 'global', reason }] } }));
}

function hashes(body: Uint8Array) {
  const crc32c = new CRC32C();
  crc32c.update(Buffer.from(body));
  return { crc32c: crc32c.toString(), md5Hash: createHash('md5').update(body).digest('base64') };
}

export async function startFakeGcs(opts: FakeGcsOptions = {}): Promise<FakeGcs> {
  const objects = new Map<string, Uint8Array>();
  const requests: string[] = [];
  const authorizations: string[] = [];
  let token = opts.token;
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const authorization = req.headers.authorization ?? '';
    authorizations.push(authorization);
    if (token !== undefined) {
      if (!authorization)
        return googleError(
          res,
          401,
          'Anonymous caller does not have storage.objects.get access to the Google Cloud Storage object.',
          'required',
        );
      if (authorization !== `Bearer ${token}`)
        return googleError(res, 403, 'Caller does not have storage.objects.get access to the Google Cloud Storage object.', 'forbidden');
    }
    if (req.method === 'POST') return upload(req, res);
    const m = /^\/storage\/v1\/b\/([^/]+)\/o\/([^?]+)\?alt=media(?:&|$)/.exec(req.url ?? '');
    const body = m && objects.get(`${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}`);
    if (!body) return googleError(res, 404, 'No such object.', 'notFound');
    const { crc32c, md5Hash } = hashes(body);
    res
      .writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': body.length,
        'x-goog-hash': `crc32c=${crc32c},md5=${md5Hash}`,
        'x-goog-stored-content-encoding': 'identity',
      })
      .end(body);
  });
  function upload(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '', 'http://x');
    const m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    const type = url.searchParams.get('uploadType');
    if (!m || (type !== 'media' && type !== 'multipart')) return googleError(res, 400, 'Unsupported upload.', 'invalid');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const bucket = decodeURIComponent(m[1]);
      let name = url.searchParams.get('name');
      let body = Buffer.concat(chunks);
      if (type === 'multipart') {
        // multipart/related: the object resource (JSON), then the media.
        const boundary = /boundary="?([^";]+)"?/.exec(req.headers['content-type'] ?? '')?.[1];
        const parts = boundary ? body.toString('latin1').split(`--${boundary}`).slice(1, -1) : [];
        if (parts.length !== 2) return googleError(res, 400, 'Bad multipart upload.', 'invalid');
        const [meta, media] = parts.map((p) => p.slice(p.indexOf('\r\n\r\n') + 4, p.endsWith('\r\n') ? -2 : undefined));
        name ??= (JSON.parse(meta) as { name?: string }).name ?? null;
        body = Buffer.from(media, 'latin1');
      }
      if (!name) return googleError(res, 400, 'Required object name.', 'required');
      objects.set(`${bucket}/${name}`, body);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ kind: 'storage#object', bucket, name, size: String(body.length), ...hashes(body) }));
    });
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `http://127.0.0.1:${port}`,
    put: (bucket, object, body) => objects.set(`${bucket}/${object}`, body),
    get: (bucket, object) => objects.get(`${bucket}/${object}`),
    list: (bucket, prefix = '') =>
      [...objects.keys()]
        .filter((k) => k.startsWith(`${bucket}/${prefix}`))
        .map((k) => k.slice(bucket.length + 1))
        .sort(),
    requests,
    authorizations,
    setToken: (t) => {
      token = t;
    },
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections(); // the client library keeps connections alive
      }),
  };
}
