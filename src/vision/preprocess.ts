/**
 * From decoded pixels to model input tensors. Every model here wants the WHOLE image
 * stretched to its input size (no letterbox) as NHWC float32 RGB; they differ only in
 * size and value scaling. Resizing is sharp's bilinear ('linear' kernel, fit 'fill') on
 * the raw pixels: exactly how the parity inputs were made, so the tensors are
 * bit-identical to models/parity/*.input.f32.gz (checked in test/vision/preprocess.test.ts).
 * Images are decoded elsewhere (e.g. sharp(...).removeAlpha().toColourspace('srgb').raw()).
 */
import sharp from 'sharp';
import { invalidArgument } from '../core/errors';
import { Box } from './box';
import { Tensor } from './inference';
import { ModelEntry } from './model-manifest';

/** Decoded 8-bit RGB, row-major, 3 bytes per pixel, no padding. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface InputSpec {
  name: string;
  width: number;
  height: number;
  /** float32 value of each 8-bit channel value, as a 256-entry lookup table. */
  lut: Float32Array;
}

/** The scaling formulas the manifest uses, keyed by how its `scaling` text starts. */
const SCALINGS: readonly [string, (v: number) => number][] = [
  ['float32 x / 127.5 - 1', (v) => v / 127.5 - 1],
  ['float32 x / 255', (v) => v / 255],
  ['none: float32 pixel values 0..255', (v) => v],
];

/** Input name, size and scaling of a model; fails for layouts or scalings not handled. */
export function inputSpec(entry: ModelEntry): InputSpec {
  const [n, h, w, c] = entry.input.shape;
  if (entry.input.shape.length !== 4 || n !== 1 || c !== 3) {
    throw invalidArgument(`model ${entry.name}: input shape ${entry.input.shape} is not [1,H,W,3]`);
  }
  const hit = SCALINGS.find(([prefix]) => entry.preprocessing.scaling.startsWith(prefix));
  if (!hit) throw invalidArgument(`model ${entry.name}: unknown input scaling '${entry.preprocessing.scaling}'`);
  const lut = new Float32Array(256);
  // The same double-precision expression the parity recorder used, then rounded once.
  for (let v = 0; v < 256; v++) lut[v] = hit[1](v);
  return { name: entry.input.name, width: w, height: h, lut };
}

export function checkImage(img: RgbImage): void {
  if (!(img.width > 0 && img.height > 0) || img.data.length !== img.width * img.height * 3) {
    throw invalidArgument(`image buffer of ${img.data.length} bytes does not hold ${img.width}x${img.height} RGB`);
  }
}

/** Stretch-resizes with sharp (bilinear), keeping 3 channels. */
export async function resizeRgb(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  checkImage(img);
  const input = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length);
  const data = await sharp(input, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return { data, width, height };
}

/** The [1,H,W,3] float32 tensor `spec` wants for the whole image. */
export async function toInputTensor(img: RgbImage, spec: InputSpec): Promise<Tensor> {
  const small = await resizeRgb(img, spec.width, spec.height);
  const data = new Float32Array(small.data.length);
  for (let i = 0; i < data.length; i++) data[i] = spec.lut[small.data[i]];
  return { data, dims: [1, spec.height, spec.width, 3] };
}

/**
 * Pixels inside a normalized box (clamped to the image; edges rounded outward so a
 * box never loses a partly covered pixel). A box thinner than a pixel yields 1 pixel.
 */
export function cropRgb(img: RgbImage, box: Box): RgbImage {
  checkImage(img);
  const clamp = (v: number, hi: number): number => Math.min(hi, Math.max(0, v));
  const x0 = clamp(Math.floor(Math.min(box.x0, box.x1) * img.width), img.width - 1);
  const y0 = clamp(Math.floor(Math.min(box.y0, box.y1) * img.height), img.height - 1);
  const x1 = clamp(Math.ceil(Math.max(box.x0, box.x1) * img.width), img.width);
  const y1 = clamp(Math.ceil(Math.max(box.y0, box.y1) * img.height), img.height);
  const w = Math.max(1, x1 - x0);
  const h = Math.max(1, y1 - y0);
  if (x0 === 0 && y0 === 0 && w === img.width && h === img.height) return img;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const src = ((y0 + y) * img.width + x0) * 3;
    data.set(img.data.subarray(src, src + w * 3), y * w * 3);
  }
  return { data, width: w, height: h };
}
