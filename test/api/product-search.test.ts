/**
 * PRODUCT_SEARCH through Google's real clients (gRPC and REST): a catalog of real photos
 * in a product set, queried with transformed photos; label filters; bad filters.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { imageAnnotatorClient, productSearchClient, TRANSPORTS } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

const PARENT = 'projects/shop/locations/us-west1';
const SET = `${PARENT}/productSets/catalog`;
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

/** The query a shopper sends: an 80 % crop, a colour shift, a rescale and JPEG q50. */
async function transformed(file: string): Promise<Buffer> {
  const img = sharp(path.join(devImagesDir(), file));
  const { width, height } = await img.metadata();
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

beforeAll(async () => {
  server = await startTestServer();
  photos = readdirSync(devImagesDir())
    .filter((f) => /\.(jpg|png)$/.test(f))
    .sort();
  expect(photos.length).toBeGreaterThanOrEqual(10);
  const client = productSearchClient(server, 'grpc');
  await client.createProductSet({ parent: PARENT, productSetId: 'catalog', productSet: { displayName: 'Catalog' } });
  for (const [i, file] of photos.entries()) {
    server.gcs.put('catalog', file, readFileSync(path.join(devImagesDir(), file)));
    const id = file.replace(/\W/g, '-');
    await client.createProduct({
      parent: PARENT,
      productId: id,
      product: { displayName: file, productCategory: 'general-v1', productLabels: [{ key: 'color', value: i === 0 ? 'blue' : 'red' }] },
    });
    await client.createReferenceImage({
      parent: `${PARENT}/products/${id}`,
      referenceImage: { uri: `gs://catalog/${file}`, boundingPolys: [WHOLE] },
    });
    await client.addProductToProductSet({ name: SET, product: `${PARENT}/products/${id}` });
  }
  await client.close();
}, 180000);
afterAll(async () => {
  await server?.stop();
});

const params = (extra: object = {}) => ({
  productSearchParams: { productSet: SET, productCategories: ['general-v1'], boundingPoly: WHOLE, ...extra },
});

describe.each(TRANSPORTS)('over %s', (transport) => {
  test('transformed photos find their product first for at least 9 of 10', async () => {
    const client = imageAnnotatorClient(server, transport);
    const firsts: string[] = [];
    for (const file of photos.slice(0, 10)) {
      const [res] = await client.productSearch!({ image: { content: await transformed(file) }, imageContext: params() });
      const results = res.productSearchResults!.results!;
      expect(results.length).toBeGreaterThan(0);
      for (const r of results) {
        expect(r.score).toBeGreaterThanOrEqual(0);
        expect(r.score).toBeLessThanOrEqual(1);
      }
      firsts.push(results[0].product!.displayName === file ? 'hit' : `${file} -> ${results[0].product!.displayName}`);
      expect(Number(res.productSearchResults!.indexTime!.seconds)).toBeGreaterThan(0);
    }
    expect(firsts.filter((f) => f === 'hit').length).toBeGreaterThanOrEqual(9);
    await client.close();
  });

  test('a label filter excludes a product that would rank first; a malformed filter is INVALID_ARGUMENT', async () => {
    const client = imageAnnotatorClient(server, transport);
    const query = await transformed(photos[0]);
    const [plain] = await client.productSearch!({ image: { content: query }, imageContext: params() });
    expect(plain.productSearchResults!.results![0].product!.displayName).toBe(photos[0]);
    const [red] = await client.productSearch!({ image: { content: query }, imageContext: params({ filter: 'color = red' }) });
    expect(red.productSearchResults!.results!.map((r) => r.product!.displayName)).not.toContain(photos[0]);
    const [blueOrRed] = await client.productSearch!({
      image: { content: query },
      imageContext: params({ filter: '(color = blue OR color = red)' }),
    });
    expect(blueOrRed.productSearchResults!.results![0].product!.displayName).toBe(photos[0]);
    const [bad] = await client.productSearch!({ image: { content: query }, imageContext: params({ filter: 'color : red' }) });
    expect(bad.error).toMatchObject({ code: 3, message: expect.stringMatching(/filter at position 7/) });
    await client.close();
  });

  test('without a boundingPoly: one group per detected object, results for the largest', async () => {
    const client = imageAnnotatorClient(server, transport);
    const [res] = await client.productSearch!({
      image: { content: readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg')) },
      imageContext: { productSearchParams: { productSet: SET, productCategories: ['general-v1'] } },
    });
    const psr = res.productSearchResults!;
    expect(psr.productGroupedResults!.length).toBeGreaterThanOrEqual(3);
    for (const g of psr.productGroupedResults!) {
      expect(g.boundingPoly!.normalizedVertices).toHaveLength(4);
      expect(g.objectAnnotations![0]).toMatchObject({ mid: expect.stringMatching(/^\/m\//), languageCode: 'en' });
      expect(g.results!.length).toBeGreaterThan(0);
    }
    expect(psr.results!.length).toBeGreaterThan(0);
    await client.close();
  });
});
