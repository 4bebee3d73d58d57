/**
 * Acceptance 5 of the catalog issue: malformed JSON, wrong types, huge strings, bad enums,
 * bad resource names and bad page tokens thrown at every REST route. Every answer is a 4xx
 * with Google's error body, and the server stays up. (Raw HTTP is right here: no real
 * client would send these.)
 */
import protobuf from 'protobufjs';
import { loadRoot } from '../../src/api/proto/load';
import { buildRoutes, type Route } from '../../src/api/rest/http-rules';
import { SERVED_SERVICES } from '../../src/app/server';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ maxRequestBytes: 1024 * 1024 });
});
afterAll(async () => {
  await server?.stop();
});

const routes = buildRoutes(loadRoot(), SERVED_SERVICES);

/** A concrete path for a route, with each variable replaced by `fill(pattern)`. */
function concretePath(route: Route, fill: (segmentPattern: string) => string = validName): string {
  return route.template.replace(/\{([^=}]+)(?:=([^}]+))?\}/g, (_, _v: string, pat: string | undefined) => fill(pat ?? '*'));
}

function validName(pattern: string): string {
  return pattern
    .split('/')
    .map((s, i, all) => (s === '*' ? (all[i - 1] === 'projects' ? 'fuzz-proj' : 'x1') : s))
    .join('/');
}

interface Case {
  what: string;
  method: string;
  path: string;
  body?: string | Buffer;
}

let seed = 42;
const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;

function wrongValue(field: protobuf.Field): unknown {
  if (field.repeated) return 'not-a-list';
  if (field.resolvedType instanceof protobuf.Enum) return 'NOT_A_REAL_ENUM_VALUE';
  if (field.resolvedType instanceof protobuf.Type)
    return field.resolvedType.fullName.startsWith('.google.protobuf.') ? 12 : 'not-an-object';
  switch (field.type) {
    case 'string':
      return { nested: true };
    case 'bool':
      return 'maybe';
    case 'bytes':
      return '***not base64***';
    default:
      return 'twelve';
  }
}

/** Every field of the request body, one wrong-typed copy each (path-bound ones skipped). */
function wrongTypeBodies(route: Route): { what: string; body: object }[] {
  const bodyType =
    route.body === '*'
      ? route.requestType
      : (route.requestType.fields[route.body.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())]?.resolvedType as protobuf.Type);
  if (!bodyType) return [];
  const bound = new Set(
    route.vars.map((v) =>
      v
        .split('.')
        .pop()!
        .replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
    ),
  );
  return bodyType.fieldsArray
    .filter((f) => !bound.has(f.name))
    .map((f) => {
      f.resolve();
      return { what: `wrong type for ${f.name}`, body: { [f.name]: wrongValue(f) } };
    });
}

function casesFor(route: Route): Case[] {
  const method = route.verb.toUpperCase();
  const path = concretePath(route);
  const cases: Case[] = [];
  if (route.body) {
    for (const bad of ['{', '{"a":', '[1,2]', '"just a string"', '12', 'nul', '{"displayName": "x",}']) {
      cases.push({ what: `malformed JSON ${bad}`, method, path, body: bad });
    }
    cases.push({ what: 'binary garbage', method, path, body: Buffer.from(Array.from({ length: 64 }, () => Math.floor(rand() * 256))) });
    cases.push({ what: 'unknown field', method, path, body: JSON.stringify({ noSuchField: 1 }) });
    cases.push({ what: 'huge unknown string', method, path, body: JSON.stringify({ zz: 'x'.repeat(200_000) }) });
    cases.push({ what: 'over the size limit', method, path, body: JSON.stringify({ zz: 'x'.repeat(1_100_000) }) });
    for (const w of wrongTypeBodies(route)) cases.push({ what: w.what, method, path, body: JSON.stringify(w.body) });
  } else {
    cases.push({ what: 'unknown query parameter', method, path: `${path}?bogusParam=1` });
  }
  // Names every object inherits: looked up only among the method's own fields.
  for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__']) {
    cases.push({ what: `query parameter ${name}`, method, path: `${path}?${name}=1`, body: route.body ? '{}' : undefined });
    cases.push({ what: `nested query parameter ${name}`, method, path: `${path}?${name}.x=1`, body: route.body ? '{}' : undefined });
  }
  for (const idField of ['productSetId', 'productId', 'referenceImageId']) {
    if (!Object.hasOwn(route.requestType.fields, idField)) continue;
    for (const id of ['a%00b', 'a%0Ab', 'a%7Fb', '.', '..']) {
      cases.push({
        what: `unusable id ${idField}=${id}`,
        method,
        path: `${path}?${idField}=${id}`,
        body: route.body ? '{"displayName":"x","productCategory":"apparel-v2","uri":"gs://b/o.jpg"}' : undefined,
      });
    }
  }
  if (route.requestType.fields.pageToken) {
    for (const q of [
      'pageToken=garbage',
      'pageToken=' + Buffer.from('{"v":1,"l":"x","k":"a"}').toString('base64url'),
      'pageSize=-1',
      'pageSize=101',
      'pageSize=abc',
      'pageSize=99999999999',
    ]) {
      cases.push({ what: `bad paging ${q}`, method, path: `${path}?${q}` });
    }
  }
  if (route.vars.length) {
    const badSegments = ['%E0%A4%A', 'a%2Fb', '%00', 'a%0Ab', 'a%7Fb', 'a%C2%85b'];
    for (const seg of badSegments) {
      cases.push({
        what: `bad name segment ${seg}`,
        method,
        path: concretePath(route, (p) =>
          validName(p)
            .replace(/x1$/, seg)
            .replace(/fuzz-proj$/, seg),
        ),
      });
    }
    cases.push({ what: 'truncated name', method, path: concretePath(route, (p) => validName(p).split('/').slice(0, -1).join('/') + '/') });
  }
  return cases;
}

const ALL = routes.flatMap((r) => casesFor(r).map((c) => ({ route: `${r.verb.toUpperCase()} ${r.template}`, ...c })));

test('there are routes and cases for every served RPC', () => {
  expect(routes.length).toBeGreaterThanOrEqual(30);
  expect(ALL.length).toBeGreaterThan(300);
});

test.each(ALL.map((c) => [c.route, c.what, c] as const))('%s: %s → 4xx with a Google error body', async (_r, _w, c) => {
  const res = await fetch(server.restUrl + c.path, {
    method: c.method,
    headers: { 'content-type': 'application/json' },
    body: c.body,
  });
  const text = await res.text();
  const is4xx = res.status >= 400 && res.status < 500;
  expect(is4xx ? '4xx' : `${res.status}: ${text.slice(0, 300)}`).toBe('4xx');
  const body = JSON.parse(text) as { error: { code: number; message: string; status: string } };
  expect(body).toEqual({ error: { code: res.status, message: expect.any(String), status: expect.stringMatching(/^[A-Z_]+$/) } });
});

test('the server is still healthy and serving', async () => {
  expect((await fetch(`${server.restUrl}/healthz`)).status).toBe(200);
  const res = await fetch(`${server.restUrl}/v1/projects/fuzz-proj/locations/x1/productSets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ displayName: 'still works' }),
  });
  expect(res.status).toBe(200);
});
