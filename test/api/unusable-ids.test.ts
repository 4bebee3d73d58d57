/**
 * Issue #15 item 8: ids that could be created but never used again (control characters,
 * '.' and '..') are refused at creation, through the real client on both transports, and
 * so are control characters in display names and labels.
 */
import { expectStatus, productSearchClient, TRANSPORTS, type Transport } from '../support/clients';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const BAD_IDS = ['a\u0000b', 'a\nb', 'a\u007fb', 'a\u0085b', '.', '..'];

describe.each(TRANSPORTS)('over %s', (transport: Transport) => {
  const parent = `projects/ids-${transport}/locations/us-west1`;
  let client: ReturnType<typeof productSearchClient>;
  beforeAll(() => {
    client = productSearchClient(server, transport);
  });
  afterAll(async () => {
    await client.close();
  });

  test.each(BAD_IDS.map((id) => [JSON.stringify(id), id]))('product id %s is INVALID_ARGUMENT at creation', async (_s, id) => {
    await expectStatus(
      client.createProduct({ parent, productId: id, product: { displayName: 'x', productCategory: 'apparel-v2' } }),
      'INVALID_ARGUMENT',
    );
    await expectStatus(client.createProductSet({ parent, productSetId: id, productSet: { displayName: 'x' } }), 'INVALID_ARGUMENT');
  });

  test('reference image ids follow the same rule', async () => {
    await client.createProduct({ parent, productId: 'p1', product: { displayName: 'x', productCategory: 'apparel-v2' } });
    for (const id of BAD_IDS) {
      await expectStatus(
        client.createReferenceImage({ parent: `${parent}/products/p1`, referenceImageId: id, referenceImage: { uri: 'gs://b/o.jpg' } }),
        'INVALID_ARGUMENT',
      );
    }
  });

  test('control characters in display names and labels are INVALID_ARGUMENT', async () => {
    await expectStatus(client.createProductSet({ parent, productSet: { displayName: 'a\u0000b' } }), 'INVALID_ARGUMENT');
    await expectStatus(
      client.createProduct({
        parent,
        product: { displayName: 'ok', productCategory: 'apparel-v2', productLabels: [{ key: 'k\u0001', value: 'v' }] },
      }),
      'INVALID_ARGUMENT',
    );
  });

  test('a description may still hold line breaks and tabs', async () => {
    const [p] = await client.createProduct({
      parent,
      product: { displayName: 'ok', productCategory: 'apparel-v2', description: 'line 1\n\tline 2\r\n' },
    });
    expect(p.description).toBe('line 1\n\tline 2\r\n');
  });

  test('ids with dots inside, unicode and dashes still work end to end', async () => {
    for (const id of ['a.b', '...', 'é-ü_1']) {
      const [p] = await client.createProduct({ parent, productId: id, product: { displayName: 'x', productCategory: 'apparel-v2' } });
      const [got] = await client.getProduct({ name: p.name! });
      expect(got.name).toBe(p.name);
      await client.deleteProduct({ name: p.name! });
    }
  });
});
