/**
 * PurgeProducts through Google's real clients (gRPC and REST): force=false deletes nothing,
 * a product-set purge deletes its products (even those also in other sets) with their
 * reference images and takes them out of search, an orphan purge deletes the products in
 * no set, and bad requests fail as the other methods do.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expectStatus, imageAnnotatorClient, productSearchClient, TRANSPORTS, withKey, type Transport } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

const WHOLE = {
  normalizedVertices: [
    { x: 0, y: 0 },
    { x: 1, y: 0 },
    { x: 1, y: 1 },
    { x: 0, y: 1 },
  ],
};
const PHOTOS = { p1: 'darknet_dog.jpg', p2: 'skimage_coffee.png', p3: 'darknet_giraffe.jpg' } as const;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  for (const file of Object.values(PHOTOS)) server.gcs.put('catalog', file, readFileSync(path.join(devImagesDir(), file)));
}, 60000);
afterAll(async () => {
  await server?.stop();
});

type Client = ReturnType<typeof productSearchClient>;

/**
 * Sets `shoes` {p1, p2} and `hats` {p2, p3}; orphans o1, o2. p1, p2 and p3 each have a
 * reference image of their own photo, so search finds them.
 */
async function catalog(client: Client, parent: string): Promise<void> {
  for (const id of ['shoes', 'hats']) await client.createProductSet({ parent, productSetId: id, productSet: { displayName: id } });
  for (const id of ['p1', 'p2', 'p3', 'o1', 'o2']) {
    await client.createProduct({ parent, productId: id, product: { displayName: id, productCategory: 'general-v1' } });
  }
  for (const [id, file] of Object.entries(PHOTOS)) {
    await client.createReferenceImage({
      parent: `${parent}/products/${id}`,
      referenceImageId: 'img',
      referenceImage: { uri: `gs://catalog/${file}`, boundingPolys: [WHOLE] },
    });
  }
  for (const [set, product] of [
    ['shoes', 'p1'],
    ['shoes', 'p2'],
    ['hats', 'p2'],
    ['hats', 'p3'],
  ]) {
    await client.addProductToProductSet({ name: `${parent}/productSets/${set}`, product: `${parent}/products/${product}` });
  }
}

async function productIds(client: Client, parent: string): Promise<string[]> {
  const [products] = await client.listProducts({ parent });
  return products.map((p) => p.name!.split('/').pop()!).sort();
}

async function inSet(client: Client, parent: string, set: string): Promise<string[]> {
  const [products] = await client.listProductsInProductSet({ name: `${parent}/productSets/${set}` });
  return products.map((p) => p.name!.split('/').pop()!).sort();
}

/** Product ids search returns for a product's own photo, in the given set. */
async function found(transport: Transport, parent: string, set: string, photo: string): Promise<string[]> {
  const client = imageAnnotatorClient(server, transport);
  const [res] = await client.productSearch!({
    image: { content: readFileSync(path.join(devImagesDir(), photo)) },
    imageContext: {
      productSearchParams: { productSet: `${parent}/productSets/${set}`, productCategories: ['general-v1'], boundingPoly: WHOLE },
    },
  });
  await client.close();
  expect(res.error ?? null).toBeNull();
  return (res.productSearchResults?.results ?? []).map((r) => r.product!.name!.split('/').pop()!);
}

/** Google's BatchOperationMetadata state: numeric on gRPC, the name on REST. */
const STATE = { SUCCESSFUL: [2, 'SUCCESSFUL'] };

describe.each(TRANSPORTS)('over %s', (transport) => {
  const parent = `projects/purge-${transport}/locations/us-west1`;
  let client: Client;
  beforeAll(async () => {
    client = productSearchClient(server, transport);
    await catalog(client, parent);
  }, 120000);
  afterAll(async () => {
    await client?.close();
  });

  test('force=false is INVALID_ARGUMENT and deletes nothing', async () => {
    await expectStatus(client.purgeProducts({ parent, productSetPurgeConfig: { productSetId: 'shoes' } }), 'INVALID_ARGUMENT');
    await expectStatus(client.purgeProducts({ parent, deleteOrphanProducts: true, force: false }), 'INVALID_ARGUMENT');
    expect(await productIds(client, parent)).toEqual(['o1', 'o2', 'p1', 'p2', 'p3']);
    expect(await found(transport, parent, 'shoes', PHOTOS.p1)).toContain('p1');
  });

  test('a product-set purge deletes its products, their images and memberships; the set and other products stay', async () => {
    expect(await found(transport, parent, 'hats', PHOTOS.p2)).toContain('p2');
    const [op] = await client.purgeProducts({ parent, productSetPurgeConfig: { productSetId: 'shoes' }, force: true });
    expect(op.name).toMatch(new RegExp(`^${parent}/operations/[0-9a-f]+$`));
    const [, metadata, raw] = await op.promise();
    expect(raw.done).toBe(true);
    expect(STATE.SUCCESSFUL).toContain(metadata.state);
    expect(Number(metadata.endTime!.seconds)).toBeGreaterThanOrEqual(Number(metadata.submitTime!.seconds));

    await expectStatus(client.getProduct({ name: `${parent}/products/p1` }), 'NOT_FOUND');
    // p2 was also in `hats`: Google deletes it all the same.
    await expectStatus(client.getProduct({ name: `${parent}/products/p2` }), 'NOT_FOUND');
    await expectStatus(client.getReferenceImage({ name: `${parent}/products/p1/referenceImages/img` }), 'NOT_FOUND');
    expect(await productIds(client, parent)).toEqual(['o1', 'o2', 'p3']);
    const [set] = await client.getProductSet({ name: `${parent}/productSets/shoes` });
    expect(set.displayName).toBe('shoes');
    expect(await inSet(client, parent, 'shoes')).toEqual([]);
    expect(await inSet(client, parent, 'hats')).toEqual(['p3']);
    const [images] = await client.listReferenceImages({ parent: `${parent}/products/p3` });
    expect(images.map((i) => i.name)).toEqual([`${parent}/products/p3/referenceImages/img`]);

    // Search drops the purged products at once, in the purged set and in the other set.
    expect(await found(transport, parent, 'shoes', PHOTOS.p1)).toEqual([]);
    expect(await found(transport, parent, 'hats', PHOTOS.p2)).not.toContain('p2');
    expect((await found(transport, parent, 'hats', PHOTOS.p3))[0]).toBe('p3');

    const polled = await client.checkPurgeProductsProgress(op.name!);
    expect(polled.done).toBe(true);
    // Metapixel's progress endpoint counts the deleted products (no total is known ahead).
    const progress = (await (await fetch(`${server.restUrl}/v1/${op.name}:progress`)).json()) as Record<string, unknown>;
    expect(progress).toMatchObject({ kind: 'purge-products', state: 'SUCCESSFUL', done: true, processedLines: '2', succeededLines: '2' });
    expect(progress.totalKnown ?? false).toBe(false);
  });

  test('an orphan purge deletes the products in no set only', async () => {
    const [op] = await client.purgeProducts({ parent, deleteOrphanProducts: true, force: true });
    const [, metadata] = await op.promise();
    expect(STATE.SUCCESSFUL).toContain(metadata.state);
    expect(await productIds(client, parent)).toEqual(['p3']);
    await expectStatus(client.getProduct({ name: `${parent}/products/o1` }), 'NOT_FOUND');
    expect((await found(transport, parent, 'hats', PHOTOS.p3))[0]).toBe('p3');
  });

  test('bad requests: both targets, none, a bad id, a bad parent, a missing set', async () => {
    const both = client.purgeProducts({ parent, productSetPurgeConfig: { productSetId: 'hats' }, deleteOrphanProducts: true, force: true });
    await expect(both).rejects.toThrow(/Exactly one of product_set_purge_config and delete_orphan_products/);
    await expectStatus(both, 'INVALID_ARGUMENT');
    await expectStatus(client.purgeProducts({ parent, force: true }), 'INVALID_ARGUMENT');
    await expectStatus(client.purgeProducts({ parent, deleteOrphanProducts: false, force: true }), 'INVALID_ARGUMENT');
    await expectStatus(client.purgeProducts({ parent, productSetPurgeConfig: {}, force: true }), 'INVALID_ARGUMENT');
    await expectStatus(
      client.purgeProducts({ parent, productSetPurgeConfig: { productSetId: 'x'.repeat(129) }, force: true }),
      'INVALID_ARGUMENT',
    );
    // The REST client itself refuses a parent that does not fit the path template.
    if (transport === 'grpc')
      await expectStatus(client.purgeProducts({ parent: 'projects/p', deleteOrphanProducts: true, force: true }), 'INVALID_ARGUMENT');
    await expectStatus(client.purgeProducts({ parent, productSetPurgeConfig: { productSetId: 'nope' }, force: true }), 'NOT_FOUND');
    // Another tenant's set is not visible from this project.
    const other = `projects/purge-other-${transport}/locations/us-west1`;
    await expectStatus(client.purgeProducts({ parent: other, productSetPurgeConfig: { productSetId: 'hats' }, force: true }), 'NOT_FOUND');
    expect(await productIds(client, parent)).toEqual(['p3']);
    expect(await inSet(client, parent, 'hats')).toEqual(['p3']);
  });
});

describe('with API keys configured', () => {
  let keyed: TestServer;
  beforeAll(async () => {
    keyed = await startTestServer({ apiKeys: 'key-a=proj-a' });
  }, 60000);
  afterAll(async () => {
    await keyed?.stop();
  });

  test.each(TRANSPORTS)("another project's parent is PERMISSION_DENIED over %s", async (transport) => {
    const client = productSearchClient(keyed, transport, 'key-a');
    const opts = withKey(transport, 'key-a');
    await expectStatus(
      client.purgeProducts({ parent: 'projects/proj-b/locations/eu', deleteOrphanProducts: true, force: true }, opts),
      'PERMISSION_DENIED',
    );
    // The key's own project works.
    const [op] = await client.purgeProducts({ parent: 'projects/proj-a/locations/eu', deleteOrphanProducts: true, force: true }, opts);
    expect(op.name).toMatch(/^projects\/proj-a\/locations\/eu\/operations\//);
    await client.close();
  });
});
