/**
 * Command-line inputs -> the images to process: files as given, folders searched
 * recursively for image files (sorted, so runs are repeatable), and http(s):// or gs://
 * URLs passed through. A path that does not exist is kept with the reason, so that it gets
 * its own error line instead of stopping the run.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface ImageInput {
  /** As the user wrote it (URL) or the file's path as found. */
  input: string;
  kind: 'file' | 'url' | 'missing';
  /** For kind 'missing': what is wrong and what to do. */
  problem?: string;
}

/** Extensions of the formats the decoder reads (JPEG, PNG, WebP, GIF, AVIF, HEIC, TIFF, JPEG 2000). */
export const IMAGE_EXTENSIONS = new Set([
  '.jpg',
  '.jpeg',
  '.jpe',
  '.png',
  '.webp',
  '.gif',
  '.avif',
  '.heic',
  '.heif',
  '.tif',
  '.tiff',
  '.jp2',
]);

export const isUrl = (s: string) => /^(https?|gs):\/\//i.test(s);

export async function expandInputs(args: readonly string[]): Promise<ImageInput[]> {
  const out: ImageInput[] = [];
  for (const arg of args) {
    if (isUrl(arg)) {
      out.push({ input: arg, kind: 'url' });
      continue;
    }
    const stat = await fs.stat(arg).catch(() => null);
    if (!stat) {
      out.push({
        input: arg,
        kind: 'missing',
        problem: `No such file or folder: ${arg}. Give image files, folders of images, or http(s):// or gs:// URLs.`,
      });
    } else if (stat.isDirectory()) {
      for (const file of await imagesUnder(arg)) out.push({ input: file, kind: 'file' });
    } else {
      out.push({ input: arg, kind: 'file' }); // a file named explicitly is tried whatever its extension
    }
  }
  return out;
}

async function imagesUnder(dir: string): Promise<string[]> {
  const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  for (const e of entries) {
    const full = path.join(dir, e.name);
    // Symlinked folders are not followed: they can loop.
    if (e.isDirectory()) files.push(...(await imagesUnder(full)));
    else if ((e.isFile() || e.isSymbolicLink()) && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase())) files.push(full);
  }
  return files;
}
