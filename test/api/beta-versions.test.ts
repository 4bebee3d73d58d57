/**
 * Issue #16, must-have 2: code written against google.cloud.vision.v1p3beta1 and
 * v1p4beta1 works unchanged. The beta clients of @google-cloud/vision, over gRPC and REST,
 * run the catalog, PRODUCT_SEARCH and the long-running operations their beta has, on the
 * same core as v1 (an object made through one version is seen through the others).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import vision from '@google-cloud/vision';
import { PassThroughClient } from 'google-auth-library';
import sharp from 'sharp';
import { expectStatus, productSearchClient, TRANSPORTS, type Transport } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

const VERSIONS = ['v1p3beta1', 'v1p4beta1'] as const;
type Version = (typeof VERSIONS)[number];
const WHOLE = {
  normalizedVertices: [
    { x: 0, y: 0 },
    { x: 1, y: 0 },
    { x: 1, y: 1 },
    { x: 0, y: 1 },
  ],
};
const PHOTOS = ['darknet_dog.jpg', 'darknet_giraffe.jpg', 'darknet_horses.jpg'];
const pid = (file: string) => file.replace(/\W/g, '-');
let server: TestServer;

function options(transport: Transport) {
  return transport === 'grpc'
    ? { apiEndpoint: '127.0.0.1', port: server.grpcPort, sslCreds: grpc.credentials.createInsecure(), authClient: new PassThroughClient() }
    : { apiEndpoint: '127.0.0.1', port: server.restPort, fallback: 'rest' as const, protocol: 'http', authClient: new PassThroughClient() };
}

/** The beta's own clients, as user code written against the beta constructs them. */
function betaClients(version: Version, transport: Transport) {
  return {
    products: new vision[version].ProductSearchClient(options(transport)),
    annotator: new vision[version].ImageAnnotatorClient(options(transport)),
  };
}

/** The query a shopper sends: an 80 % crop, a rescale and JPEG q60. */
async function query(file: string): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(path.join(devImagesDir(), file)).metadata();
  return sharp(path.join(devImagesDir(), file))
    .extract({
      left: Math.round(width * 0.1),
      top: Math.round(height * 0.1),
      width: Math.round(width * 0.8),
      height: Math.round(height * 0.8),
    })
    .resize({ width: 480 })
    .jpeg({ quality: 60 })
    .toBuffer();
}

/**
 * The beta clients ship no HTTP rules for google.longrunning.Operations (nor do Google's
 * beta service configs), so over REST gax finds no URL for an operation named
 * `projects/P/locations/L/operations/ID` and fails before sending, whatever the server. A
 * v1 REST client puts v1's rules into gax's process-wide proto cache, after which beta
 * clients poll through `/v1/projects/P/locations/L/operations/ID`: the workaround
 * docs/api-behaviour.md gives.
 */
async function installV1OperationRules(transport: Transport): Promise<void> {
  if (transport === 'rest') await productSearchClient(server, 'rest').close();
}

beforeAll(async () => {
  server = await startTestServer();
  for (const f of PHOTOS) server.gcs.put('catalog', f, readFileSync(path.join(devImagesDir(), f)));
}, 60000);
afterAll(async () => {
  await server?.stop();
});

describe.each(VERSIONS.flatMap((v) => TRANSPORTS.map((t) => [v, t] as const)))('%s over %s', (version, transport) => {
  const parent = `projects/beta-${version}-${transport}/locations/us-west1`;
  const set = `${parent}/productSets/shop`;
  let products: ReturnType<typeof betaClients>['products'];
  let annotator: ReturnType<typeof betaClients>['annotator'];
  beforeAll(async () => {
    ({ products, annotator } = betaClients(version, transport));
    await installV1OperationRules(transport);
  });
  afterAll(async () => {
    await products.close();
    await annotator.close();
  });

  test('creates and lists a set, products and reference images; PRODUCT_SEARCH finds the product', async () => {
    const [created] = await products.createProductSet({ parent, productSetId: 'shop', productSet: { displayName: 'Shop' } });
    expect(created.name).toBe(set);
    for (const f of PHOTOS) {
      await products.createProduct({
        parent,
        productId: pid(f),
        product: { displayName: f, productCategory: 'general-v1', productLabels: [{ key: 'kind', value: 'animal' }] },
      });
      const [image] = await products.createReferenceImage({
        parent: `${parent}/products/${pid(f)}`,
        referenceImageId: 'img',
        referenceImage: { uri: `gs://catalog/${f}`, boundingPolys: [WHOLE] },
      });
      expect(image).toMatchObject({ name: `${parent}/products/${pid(f)}/referenceImages/img`, uri: `gs://catalog/${f}` });
      await products.addProductToProductSet({ name: set, product: `${parent}/products/${pid(f)}` });
    }
    const [sets] = await products.listProductSets({ parent });
    expect(sets.map((s) => s.displayName)).toEqual(['Shop']);
    const [listed] = await products.listProducts({ parent });
    expect(listed.map((p) => p.displayName).sort()).toEqual([...PHOTOS].sort());
    expect(listed[0].productLabels).toEqual([{ key: 'kind', value: 'animal' }]);
    const [inSet] = await products.listProductsInProductSet({ name: set });
    expect(inSet).toHaveLength(PHOTOS.length);
    const [images] = await products.listReferenceImages({ parent: `${parent}/products/${pid(PHOTOS[0])}` });
    expect(images.map((r) => r.uri)).toEqual([`gs://catalog/${PHOTOS[0]}`]);
    await expectStatus(products.getProduct({ name: `${parent}/products/none` }), 'NOT_FOUND');

    for (const f of PHOTOS) {
      const [res] = await annotator.batchAnnotateImages({
        requests: [
          {
            image: { content: await query(f) },
            features: [{ type: 'PRODUCT_SEARCH' }],
            imageContext: {
              productSearchParams: { productSet: set, productCategories: ['general-v1'], boundingPoly: WHOLE, filter: 'kind = animal' },
            },
          },
        ],
      });
      const results = res.responses![0].productSearchResults!.results!;
      expect(results[0].product!.name).toBe(`${parent}/products/${pid(f)}`);
      expect(results[0].image).toBe(`${parent}/products/${pid(f)}/referenceImages/img`);
    }
  }, 60000);

  test('OBJECT_LOCALIZATION answers through the beta', async () => {
    const [res] = await annotator.batchAnnotateImages({
      requests: [
        { image: { content: readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg')) }, features: [{ type: 'OBJECT_LOCALIZATION' }] },
      ],
    });
    expect(res.responses![0].localizedObjectAnnotations!.map((o) => o.name)).toContain('Dog');
  });

  test('ImportProductSets is a long-running operation the beta client decodes', async () => {
    const csv = `gs://catalog/${PHOTOS[0]},imp-0,imported,imp-a,general-v1,Imported A,,\ngs://catalog/missing.jpg,,imported,imp-b,general-v1,B,,\n`;
    server.gcs.put('catalog', `import-${version}-${transport}.csv`, Buffer.from(csv));
    const [operation] = await products.importProductSets({
      parent,
      inputConfig: { gcsSource: { csvFileUri: `gs://catalog/import-${version}-${transport}.csv` } },
    });
    expect(operation.name).toMatch(new RegExp(`^${parent}/operations/\\w+$`));
    // The operation as started says the beta's types, as Google's beta does.
    const started = operation.latestResponse as { metadata: { type_url?: string; typeUrl?: string } };
    expect(started.metadata.type_url ?? started.metadata.typeUrl).toBe(
      `type.googleapis.com/google.cloud.vision.${version}.BatchOperationMetadata`,
    );
    const [response, metadata] = await operation.promise();
    expect(response.statuses!.map((s) => s.code ?? 0)).toEqual([0, 5]);
    expect(response.referenceImages!.map((r) => r.name)).toEqual([`${parent}/products/imp-a/referenceImages/imp-0`]);
    expect([2, 'SUCCESSFUL']).toContain(metadata.state);
    const [product] = await products.getProduct({ name: `${parent}/products/imp-a` });
    expect(product.displayName).toBe('Imported A');
  }, 60000);

  test('an object made through v1 is seen through the beta, and the other way round', async () => {
    const v1 = productSearchClient(server, transport);
    await v1.createProduct({ parent, productId: 'from-v1', product: { displayName: 'From v1', productCategory: 'toys-v2' } });
    const [seen] = await products.getProduct({ name: `${parent}/products/from-v1` });
    expect(seen).toMatchObject({ displayName: 'From v1', productCategory: 'toys-v2' });
    await products.updateProduct({
      product: { name: `${parent}/products/from-v1`, description: 'edited in beta' },
      updateMask: { paths: ['description'] },
    });
    const [back] = await v1.getProduct({ name: `${parent}/products/from-v1` });
    expect(back.description).toBe('edited in beta');
    await products.deleteProduct({ name: `${parent}/products/from-v1` });
    await expectStatus(v1.getProduct({ name: `${parent}/products/from-v1` }), 'NOT_FOUND');
    await v1.close();
  });

  test('errors keep their codes', async () => {
    await expectStatus(
      products.createProduct({ parent, product: { displayName: 'x', productCategory: 'furniture-v9' } }),
      'INVALID_ARGUMENT',
    );
    await expectStatus(products.createProductSet({ parent, productSetId: 'shop', productSet: { displayName: 'again' } }), 'ALREADY_EXISTS');
  });
});

describe.each(TRANSPORTS)('v1p4beta1 only, over %s', (transport) => {
  const parent = `projects/beta-p4-${transport}/locations/us-west1`;

  test('PurgeProducts deletes orphan products as an operation the beta client decodes', async () => {
    const products = new vision.v1p4beta1.ProductSearchClient(options(transport));
    const annotator = new vision.v1p4beta1.ImageAnnotatorClient(options(transport));
    await installV1OperationRules(transport);
    await products.createProduct({ parent, productId: 'orphan', product: { displayName: 'Orphan', productCategory: 'toys-v2' } });
    const [operation] = await products.purgeProducts({ parent, deleteOrphanProducts: true, force: true });
    const [, metadata] = await operation.promise();
    expect([2, 'SUCCESSFUL']).toContain(metadata.state);
    await expectStatus(products.getProduct({ name: `${parent}/products/orphan` }), 'NOT_FOUND');
    await products.close();
    await annotator.close();
  });

  test('AsyncBatchAnnotateImages writes its output and answers in the beta types', async () => {
    const annotator = new vision.v1p4beta1.ImageAnnotatorClient(options(transport));
    await installV1OperationRules(transport);
    const outputConfig = { gcsDestination: { uri: `gs://out/${transport}/` }, batchSize: 5 };
    const [operation] = await annotator.asyncBatchAnnotateImages({
      requests: [{ image: { source: { imageUri: `gs://catalog/${PHOTOS[0]}` } }, features: [{ type: 'OBJECT_LOCALIZATION' }] }],
      outputConfig,
    });
    const started = operation.latestResponse as { metadata: { type_url?: string; typeUrl?: string } };
    expect(started.metadata.type_url ?? started.metadata.typeUrl).toBe(
      'type.googleapis.com/google.cloud.vision.v1p4beta1.OperationMetadata',
    );
    const [response, metadata] = await operation.promise();
    expect(response).toMatchObject({ outputConfig });
    expect([3, 'DONE']).toContain(metadata.state);
    const out = JSON.parse(Buffer.from(server.gcs.get('out', `${transport}/output-1-to-1.json`)!).toString('utf8')) as {
      responses: { localizedObjectAnnotations: { name: string }[] }[];
    };
    expect(out.responses[0].localizedObjectAnnotations.map((o) => o.name)).toContain('Dog');
    await annotator.close();
  });

  test('face recognition params (v1p4beta1 only) are accepted and ignored; BatchAnnotateFiles is UNIMPLEMENTED as in v1', async () => {
    const products = new vision.v1p4beta1.ProductSearchClient(options(transport));
    const annotator = new vision.v1p4beta1.ImageAnnotatorClient(options(transport));
    const [res] = await annotator.batchAnnotateImages({
      requests: [
        {
          image: { content: readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg')) },
          features: [{ type: 'OBJECT_LOCALIZATION' }],
          imageContext: { faceRecognitionParams: { celebritySet: ['projects/p/locations/l/celebritySets/s'] } },
        },
      ],
    });
    expect(res.responses![0].localizedObjectAnnotations!.length).toBeGreaterThan(0);
    await expectStatus(
      annotator.batchAnnotateFiles({
        requests: [{ inputConfig: { gcsSource: { uri: 'gs://catalog/a.pdf' }, mimeType: 'application/pdf' } }],
      }),
      'UNIMPLEMENTED',
    );
    await products.close();
    await annotator.close();
  });
});

test('v1p3beta1 has no PurgeProducts: its REST path is not routed', async () => {
  const res = await fetch(`${server.restUrl}/v1p3beta1/projects/p/locations/l/products:purge`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  expect(res.status).toBe(404);
  const ok = await fetch(`${server.restUrl}/v1p4beta1/projects/p/locations/l/products:purge`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"deleteOrphanProducts":true}',
  });
  // Routed to the core, which refuses a purge without force as v1 does.
  expect(ok.status).toBe(400);
});

/** Polls one import with only a beta REST client, in a fresh Node process (gax's cache is per process). */
const BETA_ONLY_POLL = `
const vision = require('@google-cloud/vision');
const { PassThroughClient } = require('google-auth-library');
const opts = () => ({ apiEndpoint: '127.0.0.1', port: Number(process.env.PORT), fallback: 'rest', protocol: 'http', authClient: new PassThroughClient() });
// gax throws some encoding failures outside the call's promise.
const attempt = (f) => new Promise((resolve) => {
  process.once('uncaughtException', (e) => resolve(String(e.message)));
  f().then(resolve, (e) => resolve(String(e.message)));
});
(async () => {
  const beta = new vision.v1p3beta1.ProductSearchClient(opts());
  const [op] = await beta.importProductSets({ parent: process.env.PARENT, inputConfig: { gcsSource: { csvFileUri: process.env.CSV } } });
  const alone = await attempt(async () => (await op.promise(), 'polled'));
  if (process.env.WITH_V1) await new vision.v1.ProductSearchClient(opts()).close();
  const after = await attempt(async () => {
    const [res] = await (await new vision.v1p3beta1.ProductSearchClient(opts()).checkImportProductSetsProgress(op.name)).promise();
    return res.statuses.map((s) => s.code || 0);
  });
  console.log(JSON.stringify({ alone, after }));
  process.exit(0);
})();
`;

test('over REST, a beta client alone cannot poll an operation (gax); a v1 client in the process fixes that', async () => {
  server.gcs.put('catalog', 'poll.csv', Buffer.from(`gs://catalog/${PHOTOS[1]},,polled,polled,general-v1,Polled,,\n`));
  const run = async (withV1: boolean) => {
    const env = {
      ...process.env,
      PORT: String(server.restPort),
      PARENT: `projects/beta-poll-${withV1}/locations/us-west1`,
      CSV: 'gs://catalog/poll.csv',
      WITH_V1: withV1 ? '1' : '',
    };
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', BETA_ONLY_POLL], {
      env,
      cwd: path.resolve(__dirname, '..', '..'),
    });
    return JSON.parse(stdout) as { alone: string; after: unknown };
  };
  const without = await run(false);
  expect(without.alone).toMatch(/Cannot build HTTP request/);
  expect(without.after).toMatch(/Cannot build HTTP request/);
  const withV1 = await run(true);
  expect(withV1.alone).toMatch(/Cannot build HTTP request/);
  expect(withV1.after).toEqual([0]);
}, 60000);
