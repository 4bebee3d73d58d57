/**
 * Real photographs for vision tests, extracted from Debian packages by
 * /work/shared/tools/dev-images.sh into <repo>/.cache/dev-images (gitignored) on first
 * use and reused afterwards. Two jest workers may ask at once: each extracts into its own
 * temporary directory and renames it into place, and the loser just removes its copy.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from '../../src/vision/preprocess';

const ROOT = path.resolve(__dirname, '..', '..');
const CACHE = path.join(ROOT, '.cache', 'dev-images');
const SCRIPT = process.env.DEV_IMAGES_SCRIPT ?? path.resolve(ROOT, '..', 'shared', 'tools', 'dev-images.sh');
const MARKER = 'darknet_dog.jpg';

export function devImagesDir(): string {
  if (fs.existsSync(path.join(CACHE, MARKER))) return CACHE;
  fs.mkdirSync(path.dirname(CACHE), { recursive: true });
  const tmp = `${CACHE}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  execFileSync('bash', [SCRIPT, tmp], { stdio: 'pipe', timeout: 120000 });
  try {
    fs.renameSync(tmp, CACHE);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another worker won the race
  }
  if (!fs.existsSync(path.join(CACHE, MARKER))) throw new Error(`dev images missing in ${CACHE}`);
  return CACHE;
}

/** Decodes a dev image to RGB the way the parity inputs were made (sharp, sRGB, no alpha). */
export async function loadRgb(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(path.join(devImagesDir(), file))
    .removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
