/**
 * PRODUCT_SEARCH without polygons on either side, through Google's real clients (gRPC and
 * REST): reference images are indexed by the whole image and their objects (garments for
 * apparel), queries are searched through the whole image, its objects and windows, and
 * `results` ranks products by their best pair of regions. Each case is one a retailer hits:
 * a shop photo that also shows a person, a product photographed in a larger scene, and a
 * garment worn by someone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { imageAnnotatorClient, productSearchClient, TRANSPORTS } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

const PARENT = 'projects/shop/locations/us-west1';
const GENERAL = `${PARENT}/productSets/general`;
const APPAREL = `${PARENT}/productSets/apparel`;
const SCENE = path.resolve(__dirname, '..', 'fixtures', 'e2e-photos', 'plasma_EveningGlow.jpg');
let server: TestServer;
type Box = { x0: number; y0: number; x1: number; y1: number };
const people: Record<string, Box> = {};

const photo = (file: string) => readFileSync(path.join(devImagesDir(), file));
const idOf = (prefix: string, file: string) => `${prefix}-${file.replace(/\W/g, '-')}`;

async function crop(file: string, b: Box): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(photo(file)).metadata();
  const left = Math.round(b.x0 * width);
  const top = Math.round(b.y0 * height);
  return sharp(photo(file))
    .extract({ left, top, width: Math.round(b.x1 * width) - left, height: Math.round(b.y1 * height) - top })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** The person the server's own object localizer finds in a photo (largest first). */
async function personBox(file: string): Promise<Box> {
  const client = imageAnnotatorClient(server, 'grpc');
  const [res] = await client.objectLocalization!({ image: { content: photo(file) } });
  await client.close();
  const person = res.localizedObjectAnnotations!.filter((o) => o.name === 'Person')[0];
  const v = person.boundingPoly!.normalizedVertices!;
  return { x0: v[0].x ?? 0, y0: v[0].y ?? 0, x1: v[2].x ?? 1, y1: v[2].y ?? 1 };
}

beforeAll(async () => {
  server = await startTestServer();
  const client = productSearchClient(server, 'grpc');
  const add = async (set: string, id: string, category: string, object: string, bytes: Buffer) => {
    server.gcs.put('catalog', object, bytes);
    await client.createProduct({ parent: PARENT, productId: id, product: { displayName: id, productCategory: category } });
    await client.createReferenceImage({ parent: `${PARENT}/products/${id}`, referenceImage: { uri: `gs://catalog/${object}` } });
    await client.addProductToProductSet({ name: set, product: `${PARENT}/products/${id}` });
  };
  await client.createProductSet({ parent: PARENT, productSetId: 'general', productSet: { displayName: 'General' } });
  await client.createProductSet({ parent: PARENT, productSetId: 'apparel', productSet: { displayName: 'Apparel' } });
  for (const file of readdirSync(devImagesDir())
    .filter((f) => /\.(jpg|png)$/.test(f))
    .sort()) {
    await add(GENERAL, idOf('g', file), 'general-v1', file, photo(file));
  }
  // Apparel shop photos: each garment alone, cut from a photo of someone wearing it.
  for (const file of ['skimage_astronaut.png', 'darknet_person.jpg', 'darknet_kite.jpg']) {
    people[file] = await personBox(file);
    const p = people[file];
    const h = p.y1 - p.y0;
    await add(
      APPAREL,
      idOf('a', file),
      'apparel-v2',
      `garment-${file}.jpg`,
      await crop(file, { ...p, y0: p.y0 + 0.2 * h, y1: p.y0 + 0.6 * h }),
    );
  }
  await client.close();
}, 240000);
afterAll(async () => {
  await server?.stop();
});

const search = (set: string, category: string) => ({ productSearchParams: { productSet: set, productCategories: [category] } });

describe.each(TRANSPORTS)('over %s', (transport) => {
  test('a shop photo with a person in it is found by a crop of its part without the person', async () => {
    const client = imageAnnotatorClient(server, transport);
    const p = people['darknet_person.jpg'];
    // The wider strip beside the person: the horse (or the dog), no person in it.
    const strip = 1 - p.x1 > p.x0 ? { x0: p.x1, y0: 0, x1: 1, y1: 1 } : { x0: 0, y0: 0, x1: p.x0, y1: 1 };
    const [res] = await client.productSearch!({
      image: { content: await crop('darknet_person.jpg', strip) },
      imageContext: search(GENERAL, 'general-v1'),
    });
    expect(res.productSearchResults!.results![0].product!.displayName).toBe(idOf('g', 'darknet_person.jpg'));
    await client.close();
  });

  test('a product pasted into a scene that is in no catalog is found first in results, as a sure match', async () => {
    const client = imageAnnotatorClient(server, transport);
    const scene = sharp(SCENE);
    const { width = 0, height = 0 } = await scene.metadata();
    const product = await sharp(photo('skimage_coffee.png'))
      .resize({ width: Math.round(width * 0.45) })
      .toBuffer();
    const composite = await sharp(SCENE)
      .composite([{ input: product, left: Math.round(width * 0.08), top: Math.round(height * 0.3) }])
      .jpeg({ quality: 85 })
      .toBuffer();
    const [res] = await client.productSearch!({ image: { content: composite }, imageContext: search(GENERAL, 'general-v1') });
    const results = res.productSearchResults!.results!;
    expect(results[0].product!.displayName).toBe(idOf('g', 'skimage_coffee.png'));
    // Found through the pasted picture's own box (an inset), so as sure a match as the
    // photo itself would be: well over the recommended threshold of 0.5.
    expect(results[0].score).toBeGreaterThan(0.8);
    for (const r of results) {
      expect(r.score).toBeGreaterThanOrEqual(0);
      expect(r.score).toBeLessThanOrEqual(1);
    }
    await client.close();
  });

  test('a garment worn by a person is found as apparel-v2, with a Clothing group for the figure', async () => {
    const client = imageAnnotatorClient(server, transport);
    for (const file of ['skimage_astronaut.png', 'darknet_person.jpg']) {
      const [res] = await client.productSearch!({ image: { content: photo(file) }, imageContext: search(APPAREL, 'apparel-v2') });
      const psr = res.productSearchResults!;
      expect(psr.results![0].product!.displayName).toBe(idOf('a', file));
      const clothing = psr.productGroupedResults!.filter((g) => g.objectAnnotations?.[0]?.name === 'Clothing');
      expect(clothing.length).toBeGreaterThanOrEqual(3); // upper body, lower body, whole figure
      expect(clothing[0].objectAnnotations![0]).toMatchObject({ mid: '/m/09j2d', languageCode: 'en' });
    }
    await client.close();
  });
});
