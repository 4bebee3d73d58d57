/**
 * Issue #15 item 5: /metrics answered without a key and named every tenant's product sets.
 */
import { productSearchClient, withKey } from '../support/clients';
import { startTestServer, type TestServer } from '../support/server';

const scrape = (server: TestServer, headers: Record<string, string> = {}) => fetch(`${server.restUrl}/metrics`, { headers });

describe('with API keys configured', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ apiKeys: 'k1=proj-a;k2=proj-b', metricsKey: 'scrape-secret' });
    const client = productSearchClient(server, 'grpc');
    await client.createProductSet(
      { parent: 'projects/proj-b/locations/us-west1', productSetId: 'secret-set-b', productSet: { displayName: 'B' } },
      withKey('grpc', 'k2'),
    );
    await client.close();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('a scrape without the metrics key, or with an API key, is UNAUTHENTICATED', async () => {
    for (const headers of <Record<string, string>[]>[
      {},
      { 'x-goog-api-key': 'k1' },
      { authorization: 'Bearer k1' },
      { authorization: 'Bearer scrape-secreT' },
    ]) {
      const res = await scrape(server, headers);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { status: string } }).error.status).toBe('UNAUTHENTICATED');
    }
    expect((await fetch(`${server.restUrl}/metrics?key=k1`)).status).toBe(401);
  });

  test("with the key it is served, without any tenant's product set names", async () => {
    const res = await scrape(server, { authorization: 'Bearer scrape-secret' });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^metapixel_index_regions \d+$/m);
    expect(text).not.toMatch(/proj-b|secret-set-b|product_set=/);
  });
});

test('with API keys but no metrics key, /metrics is closed', async () => {
  const server = await startTestServer({ apiKeys: 'k1=proj-a' });
  try {
    expect((await scrape(server)).status).toBe(401);
    expect((await scrape(server, { authorization: 'Bearer k1' })).status).toBe(401);
  } finally {
    await server.stop();
  }
});
