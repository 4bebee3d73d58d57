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
export function loadRgb(file: string): Promise<RgbImage> {
  return decodeRgb(path.join(devImagesDir(), file));
}

/** Decodes any image file or encoded bytes as loadRgb does. */
export async function decodeRgb(input: string | Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(input).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
