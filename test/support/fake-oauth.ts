/**
 * Google's OAuth 2.0 token endpoint for service accounts, on loopback: takes the JWT
 * bearer grant (RFC 7523) a service account key signs, verifies the RS256 signature with
 * the public key of the account named in `iss`, its expiry and scope, and answers an
 * access token. `serviceAccountKey` writes a key file (the format of Google's IAM) whose
 * `token_uri` points here.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeOAuth {
  tokenUri: string;
  /** Writes a new account's key to `file`; its assertions are answered with `accessToken`. */
  serviceAccountKey(file: string, email: string, accessToken: string): void;
  /** A key file for `email` signed by a key the endpoint does not know (a deleted key). */
  unknownKey(file: string, email: string): void;
  /** Tokens issued, and grants refused. */
  issued: string[];
  refused: string[];
  close(): Promise<void>;
}

const pemKeys = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });

export async function startFakeOAuth(): Promise<FakeOAuth> {
  const accounts = new Map<string, { publicKey: KeyObject; accessToken: string }>();
  const issued: string[] = [];
  const refused: string[] = [];
  const refuse = (res: http.ServerResponse, why: string) => {
    refused.push(why);
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_grant', error_description: why }));
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      if (req.method !== 'POST' || form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
        return refuse(res, 'unsupported grant');
      const [header, payload, signature] = (form.get('assertion') ?? '').split('.');
      let claims: { iss?: string; scope?: string; exp?: number; iat?: number };
      try {
        if ((JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string }).alg !== 'RS256') return refuse(res, 'not RS256');
        claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as typeof claims;
      } catch {
        return refuse(res, 'malformed assertion');
      }
      const account = accounts.get(claims.iss ?? '');
      if (!account) return refuse(res, `unknown account ${claims.iss}`);
      if (!verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), account.publicKey, Buffer.from(signature ?? '', 'base64url')))
        return refuse(res, 'Invalid JWT Signature.');
      const now = Date.now() / 1000;
      if (!claims.exp || claims.exp < now || (claims.iat ?? 0) > now + 60) return refuse(res, 'expired assertion');
      if (!/devstorage|cloud-platform/.test(claims.scope ?? '')) return refuse(res, 'no storage scope');
      issued.push(account.accessToken);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: account.accessToken, expires_in: 3599, token_type: 'Bearer' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const tokenUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  const writeKey = (file: string, email: string, privateKey: string) =>
    writeFileSync(
      file,
      JSON.stringify({
        type: 'service_account',
        project_id: 'test-project',
        private_key_id: randomBytes(20).toString('hex'),
        private_key: privateKey,
        client_email: email,
        client_id: '1234567890',
        auth_uri: 'https://accounts.google.com/o/oauth2/auth',
        token_uri: tokenUri,
      }),
    );
  return {
    tokenUri,
    serviceAccountKey(file, email, accessToken) {
      const { publicKey, privateKey } = pemKeys();
      accounts.set(email, { publicKey: createPublicKey(publicKey), accessToken });
      writeKey(file, email, privateKey);
    },
    unknownKey(file, email) {
      writeKey(file, email, pemKeys().privateKey);
    },
    issued,
    refused,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections(); // the auth library keeps connections alive
      }),
  };
}
