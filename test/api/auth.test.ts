/**
 * Acceptance 4 of the catalog issue: tenants are isolated, and configured API keys and
 * bearer tokens are checked on every call, over both transports with the real client.
 */
import { expectStatus, productSearchClient, TRANSPORTS, type Transport } from '../support/clients';
import { startTestServer, type TestServer } from '../support/server';

const headers = (h: Record<string, string>) => ({ otherArgs: { headers: h } });

describe('open server: projects are isolated', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test.each(TRANSPORTS)('cross-project access is NOT_FOUND over %s', async (transport) => {
    const client = productSearchClient(server, transport);
    const a = `projects/tenant-a-${transport}/locations/us-west1`;
    const b = `projects/tenant-b-${transport}/locations/us-west1`;
    await client.createProduct({ parent: a, productId: 'secret', product: { displayName: 'Secret', productCategory: 'toys-v2' } });
    await client.createProductSet({ parent: a, productSetId: 'set', productSet: { displayName: 'Set' } });
    await expectStatus(client.getProduct({ name: `${b}/products/secret` }), 'NOT_FOUND');
    await expectStatus(client.getProductSet({ name: `${b}/productSets/set` }), 'NOT_FOUND');
    const [listed] = await client.listProducts({ parent: b });
    expect(listed).toEqual([]);
    // The same id may exist in both tenants independently.
    await client.createProduct({ parent: b, productId: 'secret', product: { displayName: 'Other', productCategory: 'toys-v2' } });
    const [mine] = await client.getProduct({ name: `${a}/products/secret` });
    expect(mine.displayName).toBe('Secret');
    // A product from another project cannot join a set.
    await expectStatus(
      client.addProductToProductSet({ name: `${a}/productSets/set`, product: `${b}/products/secret` }),
      'INVALID_ARGUMENT',
    );
    await client.close();
  });
});

describe('with API keys and bearer tokens configured', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ apiKeys: 'key-a=proj-a;key-admin=*', bearerTokens: 'token-b=proj-b,proj-c' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe.each(TRANSPORTS)('over %s', (transport: Transport) => {
    const set = (project: string) => ({ parent: `projects/${project}/locations/eu`, productSet: { displayName: 'S' } });

    test('a call without credentials is UNAUTHENTICATED', async () => {
      const client = productSearchClient(server, transport);
      await expectStatus(client.createProductSet(set('proj-a')), 'UNAUTHENTICATED');
      await expectStatus(client.listProducts({ parent: 'projects/proj-a/locations/eu' }), 'UNAUTHENTICATED');
      await client.close();
    });

    test('an unknown key or token is UNAUTHENTICATED', async () => {
      const client = productSearchClient(server, transport);
      await expectStatus(client.createProductSet(set('proj-a'), headers({ 'x-goog-api-key': 'nope' })), 'UNAUTHENTICATED');
      await expectStatus(client.createProductSet(set('proj-a'), headers({ authorization: 'Bearer nope' })), 'UNAUTHENTICATED');
      await client.close();
    });

    test('a key works on its own project and is PERMISSION_DENIED elsewhere', async () => {
      const client = transport === 'rest' ? productSearchClient(server, transport, 'key-a') : productSearchClient(server, transport);
      const opts = transport === 'grpc' ? headers({ 'x-goog-api-key': 'key-a' }) : {};
      const [created] = await client.createProductSet(set('proj-a'), opts);
      expect(created.name).toMatch(/^projects\/proj-a\//);
      await expectStatus(client.createProductSet(set('proj-b'), opts), 'PERMISSION_DENIED');
      await expectStatus(client.getProductSet({ name: 'projects/proj-b/locations/eu/productSets/x' }, opts), 'PERMISSION_DENIED');
      await client.close();
    });

    test('bearer tokens and wildcard keys are honoured', async () => {
      const client = productSearchClient(server, transport);
      await client.createProductSet(set('proj-c'), headers({ authorization: 'Bearer token-b' }));
      await expectStatus(client.createProductSet(set('proj-a'), headers({ authorization: 'Bearer token-b' })), 'PERMISSION_DENIED');
      await client.createProductSet(set('any-project'), headers({ 'x-goog-api-key': 'key-admin' }));
      await client.close();
    });
  });

  test('the ?key= query parameter is accepted (discovery clients send it)', async () => {
    const ok = await fetch(`${server.restUrl}/v1/projects/proj-a/locations/eu/productSets?key=key-a`);
    expect(ok.status).toBe(200);
    const denied = await fetch(`${server.restUrl}/v1/projects/proj-b/locations/eu/productSets?key=key-a`);
    expect(denied.status).toBe(403);
    expect(await denied.json()).toEqual({ error: { code: 403, message: expect.any(String), status: 'PERMISSION_DENIED' } });
  });
});
