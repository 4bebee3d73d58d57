/**
 * The query kinds of the end-to-end search eval, each a deterministic function of the
 * product photo, a seeded RNG and (for composites) a background photo that is in no
 * catalog. What a shopper's phone does to a product photo, one effect at a time, so each
 * kind's recall says which effect costs what.
 */
import sharp from 'sharp';
import type { SeededRandom } from '../../src/search/hasher/seeded-random';
import { crop, paste, raw, rotate, toRaw, type RawRgb } from '../../tools/hashing/augment';

export const QUERY_KINDS = ['crop', 'rotate90', 'tilt', 'mirror', 'lowres', 'photometric', 'composite'] as const;
export type SyntheticKind = (typeof QUERY_KINDS)[number];
/** Kinds that are real photos rather than transforms: another photo of the same object, and
 *  photos of nothing in the catalog (distractors). */
export type QueryKind = SyntheticKind | 'second-photo' | 'distractor';

export const KIND_RECIPES: Record<SyntheticKind, string> = {
  crop: 'a random crop of 35-70 % of the area, aspect x0.75-1.33',
  rotate90: 'rotated 90 deg clockwise or counter-clockwise (alternating)',
  tilt: 'rotated uniform 4-12 deg either way, then the largest centred same-aspect crop',
  mirror: 'flipped left to right',
  lowres: 'longest side 96-160 px, JPEG quality 70',
  photometric: 'brightness x0.65-1.35, saturation x0.5-1.5, hue +-25 deg, contrast x0.75-1.25, JPEG quality 25-45',
  composite: 'pasted at 35-60 % of the side of a background photo that is in no catalog, random position',
};

const jpeg = (img: RawRgb, quality = 90) => raw(img).jpeg({ quality }).toBuffer();

export async function makeQuery(kind: SyntheticKind, src: RawRgb, rng: SeededRandom, i: number, background: RawRgb): Promise<Buffer> {
  switch (kind) {
    case 'crop':
      return jpeg(await toRaw(crop(src, rng, 0.35)));
    case 'rotate90':
      return jpeg(await toRaw(raw(src).rotate(i % 2 === 0 ? 90 : 270)));
    case 'tilt':
      return jpeg(await rotate(src, rng, 12, 4));
    case 'mirror':
      return jpeg(await toRaw(raw(src).flop()));
    case 'lowres': {
      const side = 96 + rng.int(65);
      return raw(src).resize(side, side, { fit: 'inside' }).jpeg({ quality: 70 }).toBuffer();
    }
    case 'photometric': {
      const contrast = rng.uniform(0.75, 1.25);
      const m = await toRaw(
        raw(src).modulate({
          brightness: rng.uniform(0.65, 1.35),
          saturation: rng.uniform(0.5, 1.5),
          hue: Math.round(rng.uniform(-25, 25)),
        }),
      );
      return raw(m)
        .linear(contrast, 128 * (1 - contrast))
        .jpeg({ quality: 25 + rng.int(21) })
        .toBuffer();
    }
    case 'composite':
      return jpeg(await paste(src, background, rng, 0.35, 0.6));
  }
}

/** Photos arrive as files of any size; the eval works on them at most 1024 px a side. */
export async function loadPhoto(file: string): Promise<RawRgb> {
  const { data, info } = await sharp(file)
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .resize(1024, 1024, { fit: 'inside', withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
