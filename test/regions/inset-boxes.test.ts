import path from 'node:path';
import sharp from 'sharp';
import { insetBox, INSET_MIN_SUPPORT } from '../../src/regions/inset-boxes';
import type { RgbImage } from '../../src/vision/preprocess';
import { decodeRgb, DEV_IMAGES_DIR } from '../support/dev-images';
import type { Box } from '../../src/vision/box';

const E2E = path.resolve(__dirname, '..', 'fixtures', 'e2e-photos');
const SCENES = [
  path.join(DEV_IMAGES_DIR, 'darknet_horses.jpg'),
  path.join(DEV_IMAGES_DIR, 'skimage_chelsea.png'),
  path.join(E2E, 'plasma_EveningGlow.jpg'),
];
const PRODUCTS = [
  path.join(DEV_IMAGES_DIR, 'skimage_coffee.png'),
  path.join(DEV_IMAGES_DIR, 'darknet_dog.jpg'),
  path.join(DEV_IMAGES_DIR, 'skimage_motorcycle_left.png'),
];

/** `product` pasted into `scene` at `frac` of the scene's width, its top-left corner at
 *  (left, top) as shares of the scene; the JPEG a phone or a browser would send, and the
 *  box where the product went. */
async function composite(scene: string, product: string, frac: number, left: number, top: number): Promise<{ img: RgbImage; box: Box }> {
  const { width = 0, height = 0 } = await sharp(scene).metadata();
  const small = await sharp(product)
    .removeAlpha()
    .resize({ width: Math.round(width * frac) })
    .toBuffer({ resolveWithObject: true });
  const x = Math.round(width * left);
  const y = Math.min(Math.round(height * top), height - small.info.height);
  const jpeg = await sharp(scene)
    .removeAlpha()
    .composite([{ input: small.data, left: x, top: y }])
    .jpeg({ quality: 80 })
    .toBuffer();
  return {
    img: await decodeRgb(jpeg),
    box: { x0: x / width, y0: y / height, x1: (x + small.info.width) / width, y1: (y + small.info.height) / height },
  };
}

const near = (got: Box, want: Box, tolerance: number) =>
  Math.max(Math.abs(got.x0 - want.x0), Math.abs(got.y0 - want.y0), Math.abs(got.x1 - want.x1), Math.abs(got.y1 - want.y1)) <= tolerance;

test('a photo pasted into a scene is found where it was pasted, to 1 % of the side', async () => {
  const placements = [
    [0.4, 0.1, 0.2],
    [0.55, 0.4, 0.3],
    [0.35, 0.05, 0.5],
  ] as const;
  for (const [si, scene] of SCENES.entries())
    for (const [pi, product] of PRODUCTS.entries()) {
      const [frac, left, top] = placements[(si + pi) % placements.length];
      const { img, box } = await composite(scene, product, frac, left, top);
      const found = insetBox(img);
      expect({ scene, product, box: found?.box }).toEqual({ scene, product, box: expect.anything() });
      expect(near(found!.box, box, 0.01)).toBe(true);
      expect(found!.support).toBeGreaterThanOrEqual(INSET_MIN_SUPPORT);
    }
});

test('a picture flush with the image border is found by its three other sides', async () => {
  const { img, box } = await composite(SCENES[0], PRODUCTS[0], 0.45, 0, 0.3);
  expect(box.x0).toBe(0);
  expect(near(insetBox(img)!.box, box, 0.01)).toBe(true);
});

test('photos with no picture inside them, flat images and noise have no inset', async () => {
  for (const scene of SCENES) expect(insetBox(await decodeRgb(scene))).toBeUndefined();
  const flat = { data: new Uint8Array(3 * 300 * 200).fill(128), width: 300, height: 200 };
  expect(insetBox(flat)).toBeUndefined();
  let seed = 7;
  const noise = {
    data: Uint8Array.from({ length: 3 * 300 * 200 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24) & 255),
    width: 300,
    height: 200,
  };
  expect(insetBox(noise)).toBeUndefined();
  // Too small to tell an edge from texture.
  expect(insetBox({ data: new Uint8Array(3 * 20 * 20), width: 20, height: 20 })).toBeUndefined();
});

test('an inset is inside the image, of bounded size, and the same image always gives the same box', async () => {
  const { img } = await composite(SCENES[1], PRODUCTS[1], 0.5, 0.3, 0.2);
  const a = insetBox(img)!;
  expect(insetBox(img)).toEqual(a);
  const { x0, y0, x1, y1 } = a.box;
  expect(0 <= x0 && x0 < x1 && x1 <= 1 && 0 <= y0 && y0 < y1 && y1 <= 1).toBe(true);
  expect(x1 - x0).toBeGreaterThanOrEqual(0.15);
  expect((x1 - x0) * (y1 - y0)).toBeLessThanOrEqual(0.8);
  // A large image is read at a reduced size: the box is the same to a sample's width.
  const big = await decodeRgb(
    await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
      .resize(img.width * 3)
      .png()
      .toBuffer(),
  );
  expect(near(insetBox(big)!.box, a.box, 0.01)).toBe(true);
});

test('a picture in a long banner is placed on the whole image, though the banner is read at a quarter of its size', async () => {
  const width = 2002;
  const height = 303; // not multiples of the sampling step (4)
  const banner = await sharp(SCENES[2]).resize(width, height, { fit: 'fill' }).removeAlpha().toBuffer();
  const product = await sharp(PRODUCTS[0]).removeAlpha().resize(400, 200, { fit: 'fill' }).toBuffer();
  const jpeg = await sharp(banner)
    .composite([{ input: product, left: 1201, top: 61 }])
    .jpeg({ quality: 85 })
    .toBuffer();
  const found = insetBox(await decodeRgb(jpeg));
  expect(near(found!.box, { x0: 1201 / width, y0: 61 / height, x1: 1601 / width, y1: 261 / height }, 0.01)).toBe(true);
});
