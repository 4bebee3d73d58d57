/**
 * ImportProductSets through Google's real clients: a CSV of real photos with good and bad
 * lines, per-line statuses, the imported products found by PRODUCT_SEARCH, regions of one
 * image given on several lines, an existing product left as it is, a CSV that cannot be
 * read, cancel, and Metapixel's progress endpoint (REST and gRPC).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { imageAnnotatorClient, metapixelGrpcClient, productSearchClient, expectStatus } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startJongodb, type Jongodb } from '../support/jongodb';
import { startTestServer, type TestServer } from '../support/server';

const PARENT = 'projects/imp/locations/us-west1';
const WHOLE = {
  normalizedVertices: [
    { x: 0, y: 0 },
    { x: 1, y: 0 },
    { x: 1, y: 1 },
    { x: 0, y: 1 },
  ],
};
let server: TestServer;
let photos: string[];

const csv = (lines: string[]) => Buffer.from(lines.join('\n') + '\n');
const pid = (file: string) => file.replace(/\W/g, '-');

/** 48 good lines (4 images of each of the 12 photos) around bad ones; index -> expected code. */
function catalogCsv(): { lines: string[]; expected: Map<number, number> } {
  const lines: string[] = [];
  const expected = new Map<number, number>();
  const add = (line: string, code: number) => {
    expected.set(lines.length, code);
    lines.push(line);
  };
  photos.forEach((f, i) => {
    for (let k = 0; k < 4; k++) {
      // Darknet photos are large enough for a whole-image normalized poly (detection skipped).
      const poly = f.startsWith('darknet') && k % 2 === 0 ? '"0.0,0.0,1.0,0.0,1.0,1.0,0.0,1.0"' : '';
      add(`gs://catalog/${f},${pid(f)}-${k},catalog,${pid(f)},general-v1,${f},"color=${i % 2 ? 'red' : 'blue'},n=${i}",${poly}`, 0);
    }
    if (i === 3) add('gs://catalog/darknet_dog.jpg,,catalog,bad-category,furniture-v9,Bad,,', 3); // unknown category
    if (i === 5) add('gs://catalog/missing.jpg,,catalog,missing-image,general-v1,Missing,,', 5); // no such object
    if (i === 7) add('gs://catalog/darknet_dog.jpg,bad-poly,catalog,dog-2,general-v1,,,"1,2,3"', 3); // odd count
  });
  add('gs://catalog/darknet_dog.jpg,small-poly,catalog,dog-2,general-v1,,,"0,0,100,0,100,100,0,100"', 3); // < 300 px
  add('"gs://catalog/darknet_dog.jpg,unterminated,catalog', 3); // malformed CSV
  add('', 3); // empty line
  add('http://example.com/a.jpg,,catalog,web,general-v1,,,', 3); // not gs://
  add('gs://catalog/darknet_dog.jpg,,catalog,dog-3,general-v1,,color,', 3); // label without =
  add(`gs://catalog/darknet_eagle.jpg,${pid('darknet_dog.jpg')}-0,catalog,${pid('darknet_dog.jpg')},general-v1,,,`, 6); // id taken, other uri
  // One image, two regions, given on two lines (Google's way); no image-id: derived from the URI.
  add('gs://catalog/darknet_horses.jpg,,catalog,horses,general-v1,Horses,,"0,0,400,0,400,400,0,400"', 0);
  add('gs://catalog/darknet_horses.jpg,,catalog,horses,general-v1,Horses,,"300,100,700,100,700,500,300,500"', 0);
  // An existing product keeps its category, display name and labels.
  add('gs://catalog/darknet_kite.jpg,kite,catalog,pre,apparel-v2,Changed,"x=y",', 0);
  return { lines, expected };
}

/** The query a shopper sends: an 80 % crop, a colour shift, a rescale and JPEG q50. */
async function transformed(file: string): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(path.join(devImagesDir(), file)).metadata();
  return sharp(path.join(devImagesDir(), file))
    .extract({
      left: Math.round(width * 0.1),
      top: Math.round(height * 0.1),
      width: Math.round(width * 0.8),
      height: Math.round(height * 0.8),
    })
    .modulate({ brightness: 1.1, saturation: 0.8, hue: 10 })
    .resize({ width: 480 })
    .jpeg({ quality: 50 })
    .toBuffer();
}

// The whole suite runs on both stores: import writes through every part of the store port.
describe.each(['embedded', 'mongodb'] as const)('on the %s store', (store) => {
  let mongo: Jongodb | undefined;

  beforeAll(async () => {
    if (store === 'mongodb') mongo = await startJongodb();
    server = await startTestServer(mongo ? { mongodbUri: mongo.uri } : {});
    photos = readdirSync(devImagesDir())
      .filter((f) => /\.(jpg|png)$/.test(f))
      .sort();
    for (const f of photos) server.gcs.put('catalog', f, readFileSync(path.join(devImagesDir(), f)));
  }, 60000);
  afterAll(async () => {
    await server?.stop();
    await mongo?.stop();
  });

  test('imports a CSV of real photos over gRPC: one status per line, bad lines alone fail, products searchable', async () => {
    const client = productSearchClient(server, 'grpc');
    await client.createProduct({
      parent: PARENT,
      productId: 'pre',
      product: { displayName: 'Pre', productCategory: 'toys-v2', productLabels: [{ key: 'k', value: 'v' }] },
    });
    const { lines, expected } = catalogCsv();
    expect(lines.length).toBeGreaterThanOrEqual(50);
    server.gcs.put('catalog', 'import.csv', csv(lines));

    const [operation] = await client.importProductSets({
      parent: PARENT,
      inputConfig: { gcsSource: { csvFileUri: 'gs://catalog/import.csv' } },
    });
    expect(operation.name).toMatch(/^projects\/imp\/locations\/us-west1\/operations\/\w+$/);
    const [response, metadata] = await operation.promise();
    expect(response.statuses).toHaveLength(lines.length);
    const codes = response.statuses!.map((s) => s.code ?? 0);
    expect(codes).toEqual(lines.map((_, i) => expected.get(i)));
    expect(response.statuses![expected.size - 9].message).toMatch(/^Line \d+: /);
    expect([2, 'SUCCESSFUL']).toContain(metadata.state);
    expect(Number(metadata.endTime!.seconds)).toBeGreaterThanOrEqual(Number(metadata.submitTime!.seconds));

    // 48 photo images, the horses image (once, with both regions) and the kite.
    expect(response.referenceImages).toHaveLength(50);
    const horses = response.referenceImages!.find((r) => r.name!.includes('/products/horses/'))!;
    expect(horses.boundingPolys).toHaveLength(2);
    const [horseImages] = await client.listReferenceImages({ parent: `${PARENT}/products/horses` });
    expect(horseImages).toHaveLength(1);
    expect(horseImages[0].boundingPolys).toHaveLength(2);

    const [pre] = await client.getProduct({ name: `${PARENT}/products/pre` });
    expect(pre).toMatchObject({ displayName: 'Pre', productCategory: 'toys-v2', productLabels: [{ key: 'k', value: 'v' }] });
    const [dog] = await client.getProduct({ name: `${PARENT}/products/${pid('darknet_dog.jpg')}` });
    expect(dog).toMatchObject({
      displayName: 'darknet_dog.jpg',
      productCategory: 'general-v1',
      productLabels: [
        { key: 'color', value: 'blue' },
        { key: 'n', value: '0' },
      ],
    });
    const [dogImages] = await client.listReferenceImages({ parent: dog.name });
    expect(dogImages.map((r) => r.uri)).toEqual(Array(4).fill('gs://catalog/darknet_dog.jpg'));
    // A line that failed leaves nothing behind.
    await expectStatus(client.getProduct({ name: `${PARENT}/products/missing-image` }), 'NOT_FOUND');
    await expectStatus(client.getProduct({ name: `${PARENT}/products/bad-category` }), 'NOT_FOUND');
    const [inSet] = await client.listProductsInProductSet({ name: `${PARENT}/productSets/catalog`, pageSize: 100 });
    expect(inSet).toHaveLength(photos.length + 2);

    const annotator = imageAnnotatorClient(server, 'grpc');
    for (const f of ['darknet_dog.jpg', 'skimage_coffee.png', 'darknet_giraffe.jpg']) {
      const [res] = await annotator.productSearch!({
        image: { content: await transformed(f) },
        imageContext: {
          productSearchParams: { productSet: `${PARENT}/productSets/catalog`, productCategories: ['general-v1'], boundingPoly: WHOLE },
        },
      });
      expect(res.productSearchResults!.results![0].product!.name).toBe(`${PARENT}/products/${pid(f)}`);
    }
    await annotator.close();

    // Importing the same CSV again adds no image: every line finds what the first run made.
    const [again] = await client.importProductSets({
      parent: PARENT,
      inputConfig: { gcsSource: { csvFileUri: 'gs://catalog/import.csv' } },
    });
    const [second] = await again.promise();
    expect(second.statuses!.map((s) => s.code ?? 0)).toEqual(codes);
    const [dogImagesAfter] = await client.listReferenceImages({ parent: dog.name });
    expect(dogImagesAfter).toHaveLength(4);
    const [horseImagesAfter] = await client.listReferenceImages({ parent: `${PARENT}/products/horses` });
    expect(horseImagesAfter[0].boundingPolys).toHaveLength(2);
    await client.close();
  }, 300000);

  test('over REST: the operation, its progress, and the checks made before queueing', async () => {
    const client = productSearchClient(server, 'rest');
    const parent = 'projects/imp-rest/locations/eu';
    server.gcs.put(
      'catalog',
      'rest.csv',
      csv([
        'gs://catalog/darknet_person.jpg,front,people,person,apparel-v2,Person,"a=b",',
        'gs://catalog/darknet_person.jpg,front,people,person,apparel-v2,Person,"a=b",', // the same line twice: one image
        'gs://catalog/skimage_chelsea.png,cat,people,cat,toys-v2,,,"0.0,0.0,1.0,0.0,1.0,1.0,0.0,1.0"',
      ]),
    );
    const [operation] = await client.importProductSets({ parent, inputConfig: { gcsSource: { csvFileUri: 'gs://catalog/rest.csv' } } });
    const [response, metadata] = await operation.promise();
    expect(response.statuses!.map((s) => s.code ?? 0)).toEqual([0, 0, 0]);
    expect(response.referenceImages!.map((r) => r.name)).toEqual([
      `${parent}/products/person/referenceImages/front`,
      `${parent}/products/cat/referenceImages/cat`,
    ]);
    expect([2, 'SUCCESSFUL']).toContain(metadata.state);
    const [cat] = await client.getProduct({ name: `${parent}/products/cat` });
    expect(cat.displayName).toBe(' '); // Google: an empty display name becomes a space

    const progress = (await (await fetch(`${server.restUrl}/v1/${operation.name}:progress`)).json()) as Record<string, unknown>;
    expect(progress).toMatchObject({
      name: operation.name,
      kind: 'import-product-sets',
      state: 'SUCCESSFUL',
      done: true,
      totalLines: '3',
      totalKnown: true,
      processedLines: '3',
      succeededLines: '3',
    });
    expect(progress.failedLines ?? '0').toBe('0'); // proto3 JSON leaves zeros out
    const missing = await fetch(`${server.restUrl}/v1/${parent}/operations/nope:progress`);
    expect(missing.status).toBe(404);

    await expectStatus(
      client.importProductSets({ parent, inputConfig: { gcsSource: { csvFileUri: 'https://example.com/x.csv' } } }),
      'INVALID_ARGUMENT',
    );
    await expectStatus(client.importProductSets({ parent, inputConfig: {} }), 'INVALID_ARGUMENT');
    await client.close();
    // The REST client refuses to build a request for a malformed parent; gRPC sends it.
    const grpcClient = productSearchClient(server, 'grpc');
    await expectStatus(
      grpcClient.importProductSets({ parent: 'projects/x', inputConfig: { gcsSource: { csvFileUri: 'gs://b/x.csv' } } }),
      'INVALID_ARGUMENT',
    );
    await grpcClient.close();
  }, 120000);

  test('a CSV that cannot be read fails the operation as a whole (NOT_FOUND)', async () => {
    const client = productSearchClient(server, 'grpc');
    const [operation] = await client.importProductSets({
      parent: PARENT,
      inputConfig: { gcsSource: { csvFileUri: 'gs://catalog/none.csv' } },
    });
    await expect(operation.promise()).rejects.toMatchObject({ code: 5 });
    const [op] = await client.operationsClient.getOperation({ name: operation.name! } as never);
    expect(op.error).toMatchObject({ code: 5, message: expect.stringMatching(/gs:\/\/catalog\/none\.csv/) });
    await client.close();
  });

  test('CancelOperation stops an import between lines; finished lines stay; progress over gRPC says CANCELLED', async () => {
    const client = productSearchClient(server, 'grpc');
    const parent = 'projects/imp-cancel/locations/us-west1';
    // No polygons: every line runs detection, so the import takes a while.
    const lines = Array.from({ length: 60 }, (_, i) => `gs://catalog/${photos[i % photos.length]},img-${i},slow,p-${i},general-v1,,,`);
    server.gcs.put('catalog', 'slow.csv', csv(lines));
    const [operation] = await client.importProductSets({ parent, inputConfig: { gcsSource: { csvFileUri: 'gs://catalog/slow.csv' } } });

    const jobs = metapixelGrpcClient(server, 'Jobs');
    const progress = () =>
      new Promise<{ state: string; processedLines: string; totalLines: string }>((resolve, reject) =>
        jobs.GetOperationProgress(
          { name: operation.name },
          (err: Error | null, res: { state: string; processedLines: string; totalLines: string }) => (err ? reject(err) : resolve(res)),
        ),
      );
    for (let p = await progress(); Number(p.processedLines) === 0; p = await progress()) await new Promise((r) => setTimeout(r, 200));
    await client.operationsClient.cancelOperation({ name: operation.name! } as never);
    await expect(operation.promise()).rejects.toMatchObject({ code: 1 });

    const end = await progress();
    expect(end.state).toBe('CANCELLED');
    expect(end.totalLines).toBe('60');
    const processed = Number(end.processedLines);
    expect(processed).toBeGreaterThan(0);
    expect(processed).toBeLessThan(60);
    const [op] = await client.operationsClient.getOperation({ name: operation.name! } as never);
    expect(op.done).toBe(true);
    // Every committed line's product stays; nothing is imported after the cancel settles.
    const [products] = await client.listProducts({ parent, pageSize: 100 });
    expect(products.length).toBeGreaterThanOrEqual(processed);
    await new Promise((r) => setTimeout(r, 1000));
    const [later] = await client.listProducts({ parent, pageSize: 100 });
    expect(later.length).toBe(products.length);
    jobs.close();
    await client.close();
  }, 120000);
});
