/**
 * Real photographs for vision tests, vendored in test/fixtures/dev-images (source package,
 * licence and sha256 of each in its MANIFEST.md and SHA256SUMS), so a clone with nothing
 * beside it runs every test.
 */
import * as path from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from '../../src/vision/preprocess';

export const DEV_IMAGES_DIR = path.resolve(__dirname, '..', 'fixtures', 'dev-images');

export function devImagesDir(): string {
  return DEV_IMAGES_DIR;
}

/** Decodes a dev image to RGB the way the parity inputs were made (sharp, sRGB, no alpha). */
export async function loadRgb(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(path.join(devImagesDir(), file))
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
