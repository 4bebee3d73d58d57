/**
 * Every RPC of every service the server serves (Google's ProductSearch, ImageAnnotator and
 * Operations, and every service in protos/metapixel) reaches a handler over gRPC and over
 * REST, as the metrics record it: a call that found no handler is counted UNIMPLEMENTED.
 * An RPC added to a served proto without a handler fails here (and stops startServer).
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { loadRoot } from '../../src/api/proto/load';
import { buildRoutes, type Route } from '../../src/api/rest/http-rules';
import { BETA_SERVICES } from '../../src/api/versions';
import { NOT_IMPLEMENTED, SERVED_SERVICES, V1_SERVICES } from '../../src/app/server';
import { startTestServer, type TestServer } from '../support/server';

const root = loadRoot();
const GOOGLE = ['google.cloud.vision.v1.ProductSearch', 'google.cloud.vision.v1.ImageAnnotator', 'google.longrunning.Operations'];

function servicesUnder(ns: protobuf.NamespaceBase): string[] {
  return ns.nestedArray.flatMap((n) =>
    n instanceof protobuf.Service ? [n.fullName.slice(1)] : n instanceof protobuf.Namespace ? servicesUnder(n) : [],
  );
}
const SERVICES = [...GOOGLE, ...servicesUnder(root.lookup('metapixel') as protobuf.Namespace)];
const RPCS = SERVICES.flatMap((s) => root.lookupService(s).methodsArray.map((m) => `${s}/${m.name}`));
const refused = (rpc: string) => (NOT_IMPLEMENTED as Record<string, string>)[rpc] !== undefined;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

/** An empty message (valid for every request type) on the raw gRPC path. */
function grpcCall(rpc: string): Promise<void> {
  const client = new grpc.Client(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      `/${rpc}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      () => {
        client.close();
        resolve();
      },
    );
  });
}

/** The route's template with every variable filled by a segment its pattern accepts. */
function restCall(route: Route): Promise<Response> {
  const path = route.template.replace(/\{[^=}]+(?:=([^}]+))?\}/g, (_m, pattern: string | undefined) =>
    (pattern ?? '*')
      .split('/')
      .map((s) => (s === '*' || s === '**' ? 'x1' : s))
      .join('/'),
  );
  const body = route.body ? { body: '{}', headers: { 'content-type': 'application/json' } } : {};
  return fetch(`${server.restUrl}${path}`, { method: route.verb.toUpperCase(), ...body });
}

/** rpc -> transport -> the status codes its calls were counted under. */
async function countedCodes(): Promise<Map<string, Map<string, Set<string>>>> {
  const text = await (await fetch(`${server.restUrl}/metrics`)).text();
  const out = new Map<string, Map<string, Set<string>>>();
  for (const m of text.matchAll(/^metapixel_rpc_requests_total\{([^}]*)\} (\d+)/gm)) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Number(m[2]) === 0) continue;
    const byTransport = out.get(labels.method) ?? new Map<string, Set<string>>();
    out.set(labels.method, byTransport.set(labels.transport, (byTransport.get(labels.transport) ?? new Set()).add(labels.code)));
  }
  return out;
}

test('the server serves exactly these services, and refuses only RPCs they declare', () => {
  expect([...V1_SERVICES].sort()).toEqual([...SERVICES].sort());
  // The betas are bound onto v1's handlers (api/versions.ts, test/api/beta-versions.test.ts).
  expect([...SERVED_SERVICES].sort()).toEqual([...SERVICES, ...BETA_SERVICES].sort());
  expect(SERVICES).toEqual(expect.arrayContaining(['metapixel.v1.ImageEncoder', 'metapixel.v1.Jobs']));
  for (const rpc of Object.keys(NOT_IMPLEMENTED)) expect(RPCS).toContain(rpc);
});

test('every served RPC reaches its handler over gRPC and over REST', async () => {
  const routes = buildRoutes(root, SERVICES);
  for (const rpc of RPCS) await grpcCall(rpc);
  for (const route of routes) {
    const res = await restCall(route);
    // A template this test filled wrongly would be "No API method", not a call.
    const message = res.status === 404 ? ((await res.json()) as { error: { message: string } }).error.message : '';
    expect({ route: `${route.verb} ${route.template}`, noRoute: message.startsWith('No API method') }).toEqual({
      route: `${route.verb} ${route.template}`,
      noRoute: false,
    });
  }
  const codes = await countedCodes();
  const reached = (rpc: string, transport: string) => [...(codes.get(rpc)?.get(transport) ?? [])].sort();
  for (const rpc of RPCS) {
    const hasRoute = routes.some((r) => r.method === rpc);
    if (refused(rpc)) {
      expect({ rpc, grpc: reached(rpc, 'grpc') }).toEqual({ rpc, grpc: ['UNIMPLEMENTED'] });
      if (hasRoute) expect({ rpc, rest: reached(rpc, 'rest') }).toEqual({ rpc, rest: ['UNIMPLEMENTED'] });
      continue;
    }
    expect({ rpc, hasRoute }).toEqual({ rpc, hasRoute: true });
    for (const transport of ['grpc', 'rest']) {
      const got = reached(rpc, transport);
      expect({ rpc, transport, reached: got.length > 0, unimplemented: got.includes('UNIMPLEMENTED') }).toEqual({
        rpc,
        transport,
        reached: true,
        unimplemented: false,
      });
    }
  }
}, 60_000);
