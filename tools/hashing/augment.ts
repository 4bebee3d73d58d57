/**
 * Query-like distortions of a photo, all with sharp and a seeded RNG: what a shopper's
 * phone does to a product photo (partial view, tilt, mirror, lighting, scale, JPEG) and
 * the clutter around it (pasted onto another photo). Used both to make training samples
 * (tools/hashing/embed-dataset.ts) and eval queries (bench/eval-search.ts), with
 * different seeds. Each step is its own sharp pass because sharp applies the operations
 * of one pipeline in a fixed order, not the order they were chained in.
 */
import sharp, { type Sharp } from 'sharp';
import type { SeededRandom } from '../../src/search/hasher/seeded-random';

export interface RawRgb {
  data: Buffer;
  width: number;
  height: number;
}

/** The recipe, recorded verbatim in the trained models' provenance. */
export const RECIPE = {
  crop: 'area 50-100 %, aspect x0.75-1.33, random position',
  rotate: 'p=0.5, uniform +-12 deg, then the largest centred same-aspect crop (no corners)',
  flip: 'p=0.5 horizontal',
  colour: 'brightness x0.7-1.3, saturation x0.6-1.4, hue +-20 deg, contrast x0.8-1.2',
  paste: 'p=0.3 onto another photo of the same split: object 40-80 % of the background side',
  rescale: 'longest side log-uniform 120-900 px',
  encode: 'p=0.7 JPEG quality 30-95, else PNG',
} as const;

export const raw = (img: RawRgb) => sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });

export async function toRaw(s: Sharp): Promise<RawRgb> {
  const { data, info } = await s.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

export async function loadRaw(file: string): Promise<RawRgb> {
  return toRaw(sharp(file).toColourspace('srgb'));
}

export function crop(img: RawRgb, rng: SeededRandom, minArea: number): Sharp {
  const area = rng.uniform(minArea, 1);
  const aspect = Math.exp(rng.uniform(Math.log(0.75), Math.log(1.33)));
  const w = Math.max(16, Math.min(img.width, Math.round(img.width * Math.sqrt(area * aspect))));
  const h = Math.max(16, Math.min(img.height, Math.round(img.height * Math.sqrt(area / aspect))));
  return raw(img).extract({ left: rng.int(img.width - w + 1), top: rng.int(img.height - h + 1), width: w, height: h });
}

/** Rotated by uniform +-maxDeg degrees (at least minDeg either way when given). */
export async function rotate(img: RawRgb, rng: SeededRandom, maxDeg = 12, minDeg = 0): Promise<RawRgb> {
  // minDeg 0 draws exactly as training always did, so the trained hashers stay reproducible.
  const deg = minDeg === 0 ? rng.uniform(-maxDeg, maxDeg) : (rng.next() < 0.5 ? -1 : 1) * rng.uniform(minDeg, maxDeg);
  const t = (Math.abs(deg) * Math.PI) / 180;
  // Scale of the biggest same-aspect rectangle that fits inside the rotated one.
  const s = 1 / (Math.cos(t) + Math.sin(t) * Math.max(img.width / img.height, img.height / img.width));
  const rotated = await toRaw(raw(img).rotate(deg, { background: '#000' }));
  const w = Math.max(16, Math.floor(img.width * s));
  const h = Math.max(16, Math.floor(img.height * s));
  return toRaw(raw(rotated).extract({ left: (rotated.width - w) >> 1, top: (rotated.height - h) >> 1, width: w, height: h }));
}

export async function paste(obj: RawRgb, bg: RawRgb, rng: SeededRandom, minFrac = 0.4, maxFrac = 0.8): Promise<RawRgb> {
  const frac = rng.uniform(minFrac, maxFrac);
  const s = Math.min((bg.width * frac) / obj.width, (bg.height * frac) / obj.height);
  const w = Math.max(16, Math.round(obj.width * s));
  const h = Math.max(16, Math.round(obj.height * s));
  const small = await raw(obj).resize(w, h, { fit: 'fill' }).png().toBuffer();
  return toRaw(raw(bg).composite([{ input: small, left: rng.int(bg.width - w + 1), top: rng.int(bg.height - h + 1) }]));
}

/** One augmented, encoded (JPEG or PNG) image of `src`; `backgrounds` are paste targets. */
export async function augment(src: RawRgb, rng: SeededRandom, backgrounds: readonly RawRgb[]): Promise<Buffer> {
  let img = await toRaw(crop(src, rng, 0.5));
  if (rng.next() < 0.5) img = await rotate(img, rng);
  let s = raw(img);
  if (rng.next() < 0.5) s = s.flop();
  const contrast = rng.uniform(0.8, 1.2);
  s = s.modulate({ brightness: rng.uniform(0.7, 1.3), saturation: rng.uniform(0.6, 1.4), hue: Math.round(rng.uniform(-20, 20)) });
  img = await toRaw(s);
  img = await toRaw(raw(img).linear(contrast, 128 * (1 - contrast)));
  if (backgrounds.length > 0 && rng.next() < 0.3) img = await paste(img, backgrounds[rng.int(backgrounds.length)], rng);
  const side = Math.round(Math.exp(rng.uniform(Math.log(120), Math.log(900))));
  const out = raw(img).resize(side, side, { fit: 'inside' });
  return rng.next() < 0.7 ? out.jpeg({ quality: 30 + rng.int(66) }).toBuffer() : out.png().toBuffer();
}
