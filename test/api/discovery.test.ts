/**
 * The discovery document: generated from the served routes (every route is one method a
 * discovery client resolves back to that route), path parameters as the HTTP rules bind
 * them, schemas in Google's discovery form, and served publicly by GET only.
 */
import { loadRoot } from '../../src/api/proto/load';
import { buildRoutes, matchRoute } from '../../src/api/rest/http-rules';
import { buildDiscoveryDoc } from '../../src/api/rest/discovery-doc';
import { SERVED_SERVICES } from '../../src/app/server';
import { startTestServer, type TestServer } from '../support/server';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the document is walked as untyped JSON, checked by expect
type Json = Record<string, any>;

const root = loadRoot();
const routes = buildRoutes(root, SERVED_SERVICES);
const v1 = routes.filter((r) => r.template.startsWith('/v1/'));
const doc: Json = buildDiscoveryDoc(root, routes, 'v1');

function methods(resources: Json): Json[] {
  return Object.values(resources).flatMap((r: Json) => [...Object.values(r.methods ?? {}), ...methods(r.resources ?? {})]) as Json[];
}
const all = methods(doc.resources);

/** The URL path a discovery client builds from a method's `path`, each parameter a value its pattern accepts. */
function clientPath(m: Json): string {
  return (
    '/' +
    m.path.replace(/\{\+?([^}]+)\}/g, (_: string, name: string) => {
      const p = m.parameters[name];
      return p.pattern ? p.pattern.replace(/^\^|\$$/g, '').replace(/\[\^\/\]\+/g, 'id1') : 'id1';
    })
  );
}

test('every served v1 REST route is exactly one discovery method, and each method reaches its route', () => {
  const reached = all.map((m) => {
    const found = matchRoute(routes, m.httpMethod.toLowerCase(), clientPath(m));
    expect({ id: m.id, path: clientPath(m), found: !!found }).toEqual({ id: m.id, path: clientPath(m), found: true });
    return found!.route;
  });
  expect(new Set(reached).size).toBe(all.length);
  expect(new Set(reached)).toEqual(new Set(v1));
  expect(new Set(all.map((m) => m.id)).size).toBe(all.length);
});

test('methods sit where Google nests them, with the path parameters their HTTP rules bind', () => {
  const create = doc.resources.projects.resources.locations.resources.productSets.methods.create;
  expect(create).toMatchObject({
    id: 'vision.projects.locations.productSets.create',
    httpMethod: 'POST',
    path: 'v1/{+parent}/productSets',
    flatPath: 'v1/projects/{projectsId}/locations/{locationsId}/productSets',
    parameterOrder: ['parent'],
    parameters: {
      parent: { location: 'path', required: true, type: 'string', pattern: '^projects/[^/]+/locations/[^/]+$' },
      productSetId: { location: 'query', type: 'string' },
    },
    request: { $ref: 'ProductSet' },
    response: { $ref: 'ProductSet' },
    scopes: ['https://www.googleapis.com/auth/cloud-platform', 'https://www.googleapis.com/auth/cloud-vision'],
  });
  const patch = doc.resources.projects.resources.locations.resources.products.methods.patch;
  expect(patch.path).toBe('v1/{+name}');
  expect(patch.parameters.name.pattern).toBe('^projects/[^/]+/locations/[^/]+/products/[^/]+$');
  expect(patch.parameters.updateMask).toMatchObject({ location: 'query', type: 'string', format: 'google-fieldmask' });
  expect(
    doc.resources.projects.resources.locations.resources.products.resources.referenceImages.methods.list.parameters.pageSize,
  ).toMatchObject({
    location: 'query',
    type: 'integer',
    format: 'int32',
  });
  expect(doc.resources.projects.resources.locations.resources.productSets.resources.products.methods.list.id).toBe(
    'vision.projects.locations.productSets.products.list',
  );
  expect(doc.resources.images.methods.annotate).toMatchObject({
    path: 'v1/images:annotate',
    parameterOrder: [],
    request: { $ref: 'BatchAnnotateImagesRequest' },
  });
  expect(doc.resources.operations.methods.get.parameters.name.pattern).toBe('^operations/[^/]+$');
  expect(Object.keys(doc.resources.projects.resources.operations.methods).sort()).toEqual(['cancel', 'delete', 'get', 'list', 'progress']);
  // Every path and body field is a declared parameter; no parameter is both.
  for (const m of all) {
    const inPath = [...m.path.matchAll(/\{\+?([^}]+)\}/g)].map((x) => x[1]);
    expect(m.parameterOrder).toEqual(inPath);
    for (const name of inPath) expect(m.parameters[name]).toMatchObject({ location: 'path', required: true });
  }
});

test('schemas use proto3 JSON names and Google discovery types; every $ref resolves', () => {
  const s = doc.schemas;
  expect(s.Image.properties.content).toMatchObject({ type: 'string', format: 'byte' });
  expect(s.Feature.properties.type).toMatchObject({ type: 'string' });
  expect(s.Feature.properties.type.enum).toEqual(expect.arrayContaining(['PRODUCT_SEARCH', 'OBJECT_LOCALIZATION']));
  expect(s.Feature.properties.type.enumDescriptions).toHaveLength(s.Feature.properties.type.enum.length);
  expect(s.Feature.properties.maxResults).toEqual(expect.objectContaining({ type: 'integer', format: 'int32' }));
  expect(s.ProductSearchParams.properties.productCategories).toMatchObject({ type: 'array', items: { type: 'string' } });
  expect(s.ProductSearchResults.properties.indexTime).toMatchObject({ type: 'string', format: 'google-datetime' });
  expect(s.OperationProgress.properties.totalLines).toMatchObject({ type: 'string', format: 'int64' });
  expect(s.Operation.properties.metadata).toMatchObject({ type: 'object', additionalProperties: { type: 'any' } });
  expect(s.Status.properties.details).toMatchObject({ type: 'array', items: { type: 'object', additionalProperties: { type: 'any' } } });
  expect(s.Empty).toMatchObject({ id: 'Empty', type: 'object', properties: {} });
  expect(s.Product.properties.productLabels.items).toEqual({ $ref: 'KeyValue' });
  for (const [name, schema] of Object.entries<Json>(s)) expect(schema.id).toBe(name);
  const refs = JSON.stringify(doc)
    .match(/"\$ref":"[^"]+"/g)!
    .map((r) => r.slice(8, -1));
  for (const r of refs) expect(s[r]).toBeDefined();
});

test.each(['v1p3beta1', 'v1p4beta1'])(
  'the served beta %s has its own document: every route of that version once, under its prefix',
  (version) => {
    const beta: Json = buildDiscoveryDoc(root, routes, version);
    const betaMethods = methods(beta.resources);
    expect(beta.id).toBe(`vision:${version}`);
    const reached = betaMethods.map((m) => matchRoute(routes, m.httpMethod.toLowerCase(), clientPath(m))!.route);
    expect(new Set(reached)).toEqual(new Set(routes.filter((r) => r.template.startsWith(`/${version}/`))));
    expect(beta.resources.projects.resources.locations.resources.productSets.methods.create.path).toMatch(new RegExp(`^${version}/`));
  },
);

test('another version has no document until its routes exist', () => {
  expect(() => buildDiscoveryDoc(root, routes, 'v7')).toThrow(/no REST routes/);
});

describe('served', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ apiKeys: 'secret-key=*' });
  });
  afterAll(() => server?.stop());

  test('both addresses serve it without a key, rootUrl and baseUrl the address the client used', async () => {
    const a = await fetch(`${server.restUrl}/$discovery/rest?version=v1`);
    expect(a.status).toBe(200);
    const body = (await a.json()) as Json;
    expect(body).toMatchObject({
      kind: 'discovery#restDescription',
      id: 'vision:v1',
      rootUrl: `${server.restUrl}/`,
      baseUrl: `${server.restUrl}/`,
      servicePath: '',
    });
    const b = (await (await fetch(`${server.restUrl}/discovery/v1/apis/vision/v1/rest`)).json()) as Json;
    expect(b).toEqual(body);
    const proxied = (await (
      await fetch(`${server.restUrl}/discovery/v1/apis/vision/v1/rest`, { headers: { 'x-forwarded-proto': 'https' } })
    ).json()) as Json;
    expect(proxied.rootUrl).toBe(`https://127.0.0.1:${server.restPort}/`);
  });

  test('an unknown version is NOT_FOUND; other verbs reach the API (and its key check)', async () => {
    expect((await fetch(`${server.restUrl}/$discovery/rest?version=v1p4beta1`)).status).toBe(200);
    const missing = await fetch(`${server.restUrl}/$discovery/rest?version=v9`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Json).error.status).toBe('NOT_FOUND');
    expect((await fetch(`${server.restUrl}/discovery/v1/apis/storage/v1/rest`)).status).toBe(404);
    const post = await fetch(`${server.restUrl}/$discovery/rest?version=v1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(post.status).toBe(404);
  });
});
