/**
 * Acceptance 1 of the catalog issue: the real @google-cloud/vision ProductSearchClient, over
 * gRPC and over the REST fallback, runs a full catalog life cycle and every error case.
 */
import { expectStatus, productSearchClient, TRANSPORTS, type Transport } from '../support/clients';
import { patternJpeg, startTestServer, type TestServer } from '../support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  server.gcs.put('bucket', 'shoe.jpg', await patternJpeg(1000, 1000, 1));
  server.gcs.put('bucket', 'shoe2.jpg', await patternJpeg(640, 480, 2));
  server.gcs.put('b', 'o.jpg', await patternJpeg(800, 1300, 3));
  server.gcs.put('b', 'not-an-image.jpg', Buffer.from('hello'));
});
afterAll(async () => {
  await server?.stop();
});

describe.each(TRANSPORTS)('catalog life cycle over %s', (transport: Transport) => {
  const project = `life-${transport}`;
  const parent = `projects/${project}/locations/us-west1`;
  let client: ReturnType<typeof productSearchClient>;
  beforeAll(() => {
    client = productSearchClient(server, transport);
  });
  afterAll(async () => {
    await client.close();
  });

  test('product sets: create, get, list in pages of 10, update, delete', async () => {
    const [created] = await client.createProductSet({ parent, productSetId: 'set-00', productSet: { displayName: 'Set 0' } });
    expect(created.name).toBe(`${parent}/productSets/set-00`);
    expect(created.displayName).toBe('Set 0');
    // Indexed at once: indexTime is when this server built the set's index, not 1970.
    expect(Math.abs(Number(created.indexTime?.seconds ?? 0) - Date.now() / 1000)).toBeLessThan(60);
    for (let i = 1; i < 25; i++) {
      await client.createProductSet({ parent, productSetId: `set-${String(i).padStart(2, '0')}`, productSet: { displayName: `Set ${i}` } });
    }
    const [got] = await client.getProductSet({ name: `${parent}/productSets/set-07` });
    expect(got.displayName).toBe('Set 7');

    // Manual paging: 10 + 10 + 5, tokens opaque.
    const seen: string[] = [];
    let pageToken: string | undefined;
    const sizes: number[] = [];
    do {
      const [items, , raw] = await client.listProductSets({ parent, pageSize: 10, pageToken }, { autoPaginate: false });
      sizes.push(items.length);
      seen.push(...items.map((s) => s.name!));
      pageToken = (raw as { nextPageToken?: string }).nextPageToken || undefined;
    } while (pageToken);
    expect(sizes).toEqual([10, 10, 5]);
    expect(new Set(seen).size).toBe(25);
    // Auto-pagination with the default page size sees the same 25.
    const [all] = await client.listProductSets({ parent });
    expect(all.map((s) => s.name).sort()).toEqual([...seen].sort());

    const [updated] = await client.updateProductSet({
      productSet: { name: `${parent}/productSets/set-03`, displayName: 'Renamed' },
      updateMask: { paths: ['display_name'] },
    });
    expect(updated.displayName).toBe('Renamed');
    await client.deleteProductSet({ name: `${parent}/productSets/set-24` });
    await expectStatus(client.getProductSet({ name: `${parent}/productSets/set-24` }), 'NOT_FOUND');
  });

  test('pages stay correct while items are added and removed between them', async () => {
    const p = `projects/${project}-paging/locations/eu`;
    for (let i = 0; i < 12; i++)
      await client.createProduct({
        parent: p,
        productId: `p${String(i).padStart(2, '0')}`,
        product: { displayName: `P${i}`, productCategory: 'toys-v2' },
      });
    const [first, , raw] = await client.listProducts({ parent: p, pageSize: 5 }, { autoPaginate: false });
    expect(first.map((x) => x.name!.split('/').pop())).toEqual(['p00', 'p01', 'p02', 'p03', 'p04']);
    await client.deleteProduct({ name: `${p}/products/p05` });
    await client.createProduct({ parent: p, productId: 'p01a', product: { displayName: 'early', productCategory: 'toys-v2' } });
    await client.createProduct({ parent: p, productId: 'p99', product: { displayName: 'late', productCategory: 'toys-v2' } });
    const token = (raw as { nextPageToken: string }).nextPageToken;
    const [second] = await client.listProducts({ parent: p, pageSize: 5, pageToken: token }, { autoPaginate: false });
    expect(second.map((x) => x.name!.split('/').pop())).toEqual(['p06', 'p07', 'p08', 'p09', 'p10']);
    await expectStatus(client.listProducts({ parent: p, pageSize: 5, pageToken: 'garbage!' }, { autoPaginate: false }), 'INVALID_ARGUMENT');
    // A token from another listing is refused, too.
    await expectStatus(client.listProductSets({ parent: p, pageSize: 5, pageToken: token }, { autoPaginate: false }), 'INVALID_ARGUMENT');
  });

  test('products and reference images: full cycle with cascade', async () => {
    const [product] = await client.createProduct({
      parent,
      productId: 'shoe-1',
      product: {
        displayName: 'Red shoe',
        description: 'A red running shoe',
        productCategory: 'apparel-v2',
        productLabels: [
          { key: 'color', value: 'red' },
          { key: 'style', value: 'running' },
        ],
      },
    });
    expect(product).toMatchObject({ name: `${parent}/products/shoe-1`, productCategory: 'apparel-v2' });
    expect(product.productLabels).toEqual([
      { key: 'color', value: 'red' },
      { key: 'style', value: 'running' },
    ]);

    const [auto] = await client.createProduct({ parent, product: { displayName: 'Auto id', productCategory: 'homegoods' } });
    expect(auto.name).toMatch(new RegExp(`^${parent}/products/[0-9a-f]{16}$`));

    const [updated] = await client.updateProduct({
      product: { name: product.name, productLabels: [{ key: 'color', value: 'blue' }], description: 'ignored: not in mask' },
      updateMask: { paths: ['productLabels'] },
    });
    expect(updated.productLabels).toEqual([{ key: 'color', value: 'blue' }]);
    expect(updated.description).toBe('A red running shoe');

    const [img] = await client.createReferenceImage({
      parent: product.name,
      referenceImageId: 'img-1',
      referenceImage: {
        uri: 'gs://bucket/shoe.jpg',
        boundingPolys: [
          {
            vertices: [
              { x: 0, y: 0 },
              { x: 400, y: 0 },
              { x: 400, y: 500 },
              { x: 0, y: 500 },
            ],
          },
        ],
      },
    });
    expect(img.name).toBe(`${product.name}/referenceImages/img-1`);
    expect(img.uri).toBe('gs://bucket/shoe.jpg');
    expect(img.boundingPolys?.[0].vertices).toHaveLength(4);
    // Without polygons the server picks the regions; this pattern has no object in it, so
    // the whole image is the one region.
    const [chosen] = await client.createReferenceImage({ parent: product.name, referenceImage: { uri: 'gs://bucket/shoe2.jpg' } });
    expect(chosen.boundingPolys).toEqual([
      {
        vertices: [
          { x: 0, y: 0 },
          { x: 640, y: 0 },
          { x: 640, y: 480 },
          { x: 0, y: 480 },
        ],
        normalizedVertices: [],
      },
    ]);
    const [imgs] = await client.listReferenceImages({ parent: product.name });
    expect(imgs).toHaveLength(2);
    // An image that cannot be read fails the call and stores nothing.
    await expectStatus(
      client.createReferenceImage({ parent: product.name, referenceImageId: 'gone', referenceImage: { uri: 'gs://bucket/missing.jpg' } }),
      'NOT_FOUND',
    );
    await expectStatus(
      client.createReferenceImage({ parent: product.name, referenceImageId: 'text', referenceImage: { uri: 'gs://b/not-an-image.jpg' } }),
      'INVALID_ARGUMENT',
    );
    await expectStatus(client.getReferenceImage({ name: `${product.name}/referenceImages/gone` }), 'NOT_FOUND');
    const [gotImg] = await client.getReferenceImage({ name: img.name });
    expect(gotImg.uri).toBe('gs://bucket/shoe.jpg');
    await client.deleteReferenceImage({ name: img.name });
    await expectStatus(client.getReferenceImage({ name: img.name }), 'NOT_FOUND');

    await client.deleteProduct({ name: product.name });
    await expectStatus(client.getProduct({ name: product.name }), 'NOT_FOUND');
    await expectStatus(client.listReferenceImages({ parent: product.name }), 'NOT_FOUND');
  });

  test('memberships: add (idempotent), list, remove; set delete keeps products', async () => {
    const setName = `${parent}/productSets/members`;
    await client.createProductSet({ parent, productSetId: 'members', productSet: { displayName: 'Members' } });
    for (const id of ['m1', 'm2', 'm3'])
      await client.createProduct({ parent, productId: id, product: { displayName: id, productCategory: 'toys' } });
    for (const id of ['m1', 'm2', 'm3', 'm1']) await client.addProductToProductSet({ name: setName, product: `${parent}/products/${id}` });
    const [inSet] = await client.listProductsInProductSet({ name: setName });
    expect(inSet.map((p) => p.name!.split('/').pop())).toEqual(['m1', 'm2', 'm3']);
    await client.removeProductFromProductSet({ name: setName, product: `${parent}/products/m2` });
    const [after] = await client.listProductsInProductSet({ name: setName });
    expect(after.map((p) => p.name!.split('/').pop())).toEqual(['m1', 'm3']);
    await expectStatus(client.addProductToProductSet({ name: setName, product: `${parent}/products/nope` }), 'NOT_FOUND');
    await expectStatus(
      client.addProductToProductSet({ name: `${parent}/productSets/nope`, product: `${parent}/products/m1` }),
      'NOT_FOUND',
    );
    await client.deleteProductSet({ name: setName });
    const [m1] = await client.getProduct({ name: `${parent}/products/m1` });
    expect(m1.displayName).toBe('m1');
    const [empty] = await client.listProductsInProductSet({ name: setName });
    expect(empty).toEqual([]);
  });

  test('error cases follow Google rules', async () => {
    await client.createProductSet({ parent, productSetId: 'dup', productSet: { displayName: 'Dup' } });
    await expectStatus(client.createProductSet({ parent, productSetId: 'dup', productSet: { displayName: 'Dup' } }), 'ALREADY_EXISTS');
    await expectStatus(client.createProductSet({ parent, productSet: { displayName: '' } }), 'INVALID_ARGUMENT');
    await expectStatus(client.createProductSet({ parent, productSet: { displayName: 'x'.repeat(4097) } }), 'INVALID_ARGUMENT');
    await expectStatus(client.createProductSet({ parent, productSetId: 'a/b', productSet: { displayName: 'x' } }), 'INVALID_ARGUMENT');
    await expectStatus(
      client.createProductSet({ parent, productSetId: 'x'.repeat(129), productSet: { displayName: 'x' } }),
      'INVALID_ARGUMENT',
    );
    await client.createProductSet({ parent, productSetId: 'x'.repeat(128), productSet: { displayName: 'max id' } });
    await expectStatus(client.getProductSet({ name: `${parent}/productSets/missing` }), 'NOT_FOUND');
    await expectStatus(client.updateProductSet({ productSet: { name: `${parent}/productSets/missing`, displayName: 'x' } }), 'NOT_FOUND');
    await expectStatus(client.deleteProductSet({ name: `${parent}/productSets/missing` }), 'NOT_FOUND');
    await expectStatus(
      client.updateProductSet({
        productSet: { name: `${parent}/productSets/dup`, displayName: '' },
        updateMask: { paths: ['display_name'] },
      }),
      'INVALID_ARGUMENT',
    );

    const product = (d: object) => client.createProduct({ parent, product: { displayName: 'p', productCategory: 'toys-v2', ...d } });
    await expectStatus(product({ productCategory: '' }), 'INVALID_ARGUMENT');
    await expectStatus(product({ productCategory: 'cars' }), 'INVALID_ARGUMENT');
    await expectStatus(product({ displayName: '' }), 'INVALID_ARGUMENT');
    await expectStatus(product({ description: 'd'.repeat(4097) }), 'INVALID_ARGUMENT');
    await expectStatus(product({ productLabels: [{ key: '', value: 'v' }] }), 'INVALID_ARGUMENT');
    await expectStatus(product({ productLabels: [{ key: 'k', value: 'v'.repeat(129) }] }), 'INVALID_ARGUMENT');
    await expectStatus(
      product({ productLabels: Array.from({ length: 501 }, (_, i) => ({ key: 'k', value: `v${i}` })) }),
      'INVALID_ARGUMENT',
    );
    for (const c of ['homegoods-v2', 'apparel-v2', 'toys-v2', 'packagedgoods-v1', 'general-v1', 'homegoods', 'apparel', 'toys']) {
      await product({ productCategory: c });
    }
    await client.createProduct({ parent, productId: 'imm', product: { displayName: 'p', productCategory: 'toys-v2' } });
    const name = `${parent}/products/imm`;
    await expectStatus(
      client.updateProduct({ product: { name, productCategory: 'apparel-v2' }, updateMask: { paths: ['product_category'] } }),
      'INVALID_ARGUMENT',
    );
    await expectStatus(
      client.updateProduct({ product: { name, displayName: '' }, updateMask: { paths: ['displayName'] } }),
      'INVALID_ARGUMENT',
    );
    await expectStatus(
      client.updateProduct({ product: { name, description: 'x'.repeat(4097) }, updateMask: { paths: ['description'] } }),
      'INVALID_ARGUMENT',
    );
    await expectStatus(client.updateProduct({ product: { name: `${parent}/products/missing`, displayName: 'x' } }), 'NOT_FOUND');
    const [camel] = await client.updateProduct({ product: { name, displayName: 'Camel' }, updateMask: { paths: ['displayName'] } });
    expect(camel.displayName).toBe('Camel');

    await expectStatus(
      client.createReferenceImage({ parent: `${parent}/products/missing`, referenceImage: { uri: 'gs://b/o.jpg' } }),
      'INVALID_ARGUMENT',
    );
    await expectStatus(client.createReferenceImage({ parent: name, referenceImage: { uri: '' } }), 'INVALID_ARGUMENT');
    await expectStatus(client.createReferenceImage({ parent: name, referenceImage: { uri: 'http://x/y.jpg' } }), 'INVALID_ARGUMENT');
    await expectStatus(
      client.createReferenceImage({ parent: name, referenceImage: { uri: `gs://b/${'o'.repeat(4096)}` } }),
      'INVALID_ARGUMENT',
    );
    const box = (w: number, h: number) => ({
      vertices: [
        { x: 0, y: 0 },
        { x: w, y: 0 },
        { x: w, y: h },
        { x: 0, y: h },
      ],
    });
    await expectStatus(
      client.createReferenceImage({ parent: name, referenceImage: { uri: 'gs://b/o.jpg', boundingPolys: [box(299, 600)] } }),
      'INVALID_ARGUMENT',
    );
    await expectStatus(
      client.createReferenceImage({ parent: name, referenceImage: { uri: 'gs://b/o.jpg', boundingPolys: [box(300, 1201)] } }),
      'INVALID_ARGUMENT',
    );
    await expectStatus(
      client.createReferenceImage({ parent: name, referenceImage: { uri: 'gs://b/o.jpg', boundingPolys: Array(11).fill(box(400, 400)) } }),
      'INVALID_ARGUMENT',
    );
    await client.createReferenceImage({
      parent: name,
      referenceImageId: 'ok',
      referenceImage: { uri: 'gs://b/o.jpg', boundingPolys: [box(300, 1200)] },
    });
    await expectStatus(
      client.createReferenceImage({ parent: name, referenceImageId: 'ok', referenceImage: { uri: 'gs://b/o.jpg' } }),
      'ALREADY_EXISTS',
    );
    await expectStatus(client.getReferenceImage({ name: `${name}/referenceImages/missing` }), 'NOT_FOUND');

    await expectStatus(client.listProducts({ parent, pageSize: 101 }, { autoPaginate: false }), 'INVALID_ARGUMENT');
    await expectStatus(client.listProducts({ parent, pageSize: -1 }, { autoPaginate: false }), 'INVALID_ARGUMENT');
    const [hundred] = await client.listProducts({ parent, pageSize: 100 }, { autoPaginate: false });
    expect(hundred.length).toBeGreaterThan(0);
    // The REST client cannot even build a request for a malformed name; gRPC sends it.
    if (transport === 'grpc') await expectStatus(client.getProduct({ name: 'projects/p/products/x' }), 'INVALID_ARGUMENT');
  });
});
