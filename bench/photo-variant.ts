/** The catalog photos of the end-to-end benches (bench:search, bench:allocator, bench:import). */
import path from 'node:path';
import sharp from 'sharp';
import { devImagesDir } from '../test/support/dev-images';

/**
 * Variant i of a photo: a different crop, tint and size, so every product is distinct. The
 * crop keeps `from` of each side plus `step` for each of five steps (by default 0.75–0.95);
 * `width` resizes the result.
 */
export async function photoVariant(file: string, i: number, opts: { from?: number; step?: number; width?: number } = {}): Promise<Buffer> {
  const src = path.join(devImagesDir(), file);
  const { width = 0, height = 0 } = await sharp(src).metadata();
  const f = (opts.from ?? 0.75) + (i % 5) * (opts.step ?? 0.05);
  const img = sharp(src)
    .extract({
      left: Math.round((width * (1 - f) * ((i * 7) % 3)) / 2),
      top: Math.round((height * (1 - f) * ((i * 5) % 3)) / 2),
      width: Math.round(width * f),
      height: Math.round(height * f),
    })
    .modulate({ hue: (i * 37) % 360, brightness: 0.9 + (i % 3) * 0.1 });
  return (opts.width ? img.resize({ width: opts.width }) : img).jpeg({ quality: 85 }).toBuffer();
}

/** The query made from variant i: smaller, brighter, a coarser JPEG. */
export async function queryPhoto(file: string, i: number): Promise<Buffer> {
  return sharp(await photoVariant(file, i))
    .resize({ width: 400 })
    .modulate({ brightness: 1.1 })
    .jpeg({ quality: 50 })
    .toBuffer();
}
