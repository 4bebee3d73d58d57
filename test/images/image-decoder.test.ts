/** Image decoding: formats, orientation, colour spaces, and bad or hostile input. */
import sharp from 'sharp';
import { ImageDecoder, isSrgbProfile } from '../../src/images/image-decoder';
import { pngBomb } from '../support/png-bomb';

const decoder = new ImageDecoder({ maxPixels: 50_000_000, maxSide: 2048, minSide: 16 });

const solid = (w: number, h: number, channels: 3 | 4 = 3) =>
  sharp({ create: { width: w, height: h, channels, background: { r: 200, g: 30, b: 30, alpha: 0.5 } } });

const rejects = async (bytes: Uint8Array, pattern: RegExp) => {
  await expect(decoder.decode(bytes)).rejects.toMatchObject({ code: 3, message: expect.stringMatching(pattern) });
};

test('JPEG, PNG, WebP, GIF and AVIF decode to 8-bit RGB', async () => {
  for (const fmt of ['jpeg', 'png', 'webp', 'gif', 'avif'] as const) {
    const bytes = await solid(64, 48).toFormat(fmt).toBuffer();
    const img = await decoder.decode(bytes);
    expect({ fmt, w: img.width, h: img.height, len: img.data.length }).toEqual({ fmt, w: 64, h: 48, len: 64 * 48 * 3 });
  }
});

test('EXIF orientation is applied', async () => {
  const bytes = await solid(80, 40).jpeg().withMetadata({ orientation: 6 }).toBuffer();
  const img = await decoder.decode(bytes);
  expect([img.width, img.height, img.originalWidth, img.originalHeight]).toEqual([40, 80, 40, 80]);
});

test('alpha is flattened on white, CMYK and 16-bit become 8-bit sRGB', async () => {
  const rgba = await decoder.decode(await solid(32, 32, 4).png().toBuffer());
  // 50 % red over white: the green channel is lifted towards 255.
  expect(rgba.data[1]).toBeGreaterThan(120);
  const cmyk = await decoder.decode(await solid(32, 32).toColourspace('cmyk').jpeg().toBuffer());
  expect(cmyk.data.length).toBe(32 * 32 * 3);
  expect(cmyk.data[0]).toBeGreaterThan(150);
  const deep = await decoder.decode(await solid(32, 32).toColourspace('rgb16').png().toBuffer());
  expect(deep.data.length).toBe(32 * 32 * 3);
});

test('embedded colour profiles: sRGB is taken as is, others are converted to sRGB', async () => {
  const profileOf = async (b: Buffer) => (await sharp(b).metadata()).icc;
  const tagged = (profile: string) => solid(16, 16).png().withIccProfile(profile).toBuffer();
  const [srgb, p3, cmyk] = await Promise.all([tagged('srgb'), tagged('p3'), solid(16, 16).jpeg().withIccProfile('cmyk').toBuffer()]);
  expect([isSrgbProfile(await profileOf(srgb)), isSrgbProfile(await profileOf(p3)), isSrgbProfile(await profileOf(cmyk))]).toEqual([
    true,
    false,
    false,
  ]);
  expect(isSrgbProfile(undefined)).toBe(false);
  expect(isSrgbProfile(Buffer.from('not an ICC profile at all, too short to parse'))).toBe(false);
  // The pixels of the P3 file are P3 numbers; decoded, they are sRGB again (200, 30, 30).
  const p3Pixels = await sharp(p3, { ignoreIcc: true }).raw().toBuffer();
  expect(Math.abs(p3Pixels[0] - 200) + Math.abs(p3Pixels[1] - 30)).toBeGreaterThan(10);
  for (const bytes of [srgb, p3]) {
    const img = await decoder.decode(bytes);
    expect([...img.data.subarray(0, 3)].map((v, i) => Math.abs(v - [200, 30, 30][i]) <= 2)).toEqual([true, true, true]);
  }
  // Skipping sRGB -> sRGB changes no pixel: the same bytes as libvips' own conversion.
  expect(Buffer.from((await decoder.decode(srgb)).data)).toEqual(await sharp(srgb).raw().toBuffer());
});

test('very large images are downsized, keeping the original size on record', async () => {
  const img = await decoder.decode(await solid(3000, 1500).jpeg().toBuffer());
  expect([img.width, img.height, img.originalWidth, img.originalHeight]).toEqual([2048, 1024, 3000, 1500]);
});

test('bad and hostile input is INVALID_ARGUMENT, quickly', async () => {
  const jpeg = await solid(64, 64).jpeg().toBuffer();
  const started = Date.now();
  await rejects(jpeg.subarray(0, jpeg.length / 2), /Bad image data/);
  await rejects(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)), /Bad image data/);
  await rejects(Buffer.alloc(0), /empty/);
  await rejects(await solid(1, 1).png().toBuffer(), /too small/);
  await rejects(pngBomb(30000, 30000), /too large: 30000×30000/);
  expect(Date.now() - started).toBeLessThan(3000);
});
