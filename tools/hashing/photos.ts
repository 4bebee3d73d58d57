/**
 * Materialises PHOTOS into <repo>/.cache/hashing/photos (gitignored): Debian packages are
 * fetched with apt-get download and unpacked with dpkg -x (no install, no root needed
 * beyond what apt-get download wants), dev images come from test/support/dev-images.ts.
 * Photos are stored downsized to at most 1024 px: the augmentations never need more,
 * and decoding the 5640-px wallpapers hundreds of times would dominate the run.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { devImagesDir } from '../../test/support/dev-images';
import { PHOTOS, PhotoSource } from './photo-sources';

export const REPO = path.resolve(__dirname, '..', '..');
export const CACHE = path.join(REPO, '.cache', 'hashing');
const PHOTO_DIR = path.join(CACHE, 'photos');
const MAX_SIDE = 1024;

export interface Photo extends PhotoSource {
  file: string;
}

export async function ensurePhotos(): Promise<Photo[]> {
  const missing = PHOTOS.filter((p) => !fs.existsSync(path.join(PHOTO_DIR, p.id)));
  if (missing.length > 0) await fetchPhotos(missing);
  return PHOTOS.map((p) => ({ ...p, file: path.join(PHOTO_DIR, p.id) }));
}

async function fetchPhotos(list: PhotoSource[]): Promise<void> {
  fs.mkdirSync(PHOTO_DIR, { recursive: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hashing-photos-'));
  try {
    const pkgs = [...new Set(list.map((p) => p.pkg).filter((p) => p !== 'dev-images'))];
    if (pkgs.length > 0) {
      execFileSync('apt-get', ['download', ...pkgs], { cwd: work, stdio: 'pipe' });
      for (const deb of fs.readdirSync(work).filter((f) => f.endsWith('.deb'))) {
        execFileSync('dpkg', ['-x', deb, 'x'], { cwd: work, stdio: 'pipe' });
      }
    }
    for (const p of list) {
      const src = p.pkg === 'dev-images' ? path.join(devImagesDir(), p.path) : path.join(work, 'x', p.path);
      // PNG keeps the stored copy lossless, so the only JPEG losses are the augmentations'.
      await sharp(src)
        .rotate()
        .removeAlpha()
        .toColourspace('srgb')
        .resize(MAX_SIDE, MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
        .png()
        .toFile(path.join(PHOTO_DIR, p.id));
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
