/**
 * From decoded pixels to model input tensors. Every model here wants the WHOLE image
 * stretched to an input size (no letterbox) as NHWC float32 RGB: its fixed size, or for
 * a model with free dims a size of the image's own aspect ratio (model-io.ts inputSize). Resizing is sharp's bilinear ('linear' kernel, fit 'fill') on
 * the raw pixels: exactly how the parity inputs were made, so the tensors are
 * bit-identical to models/parity/*.input.f32.gz (checked in test/vision/preprocess.test.ts).
 * Images are decoded elsewhere (e.g. sharp(...).removeAlpha().toColourspace('srgb').raw()).
 */
import sharp from 'sharp';
import { invalidArgument } from '../core/errors';
import { Box } from './box';
import { Tensor } from './inference';
import { InputSpec, pixelsToTensor } from './model-io';

export { inputSpec, type InputSpec } from './model-io';

/** Decoded 8-bit RGB, row-major, 3 bytes per pixel, no padding. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export function checkImage(img: RgbImage): void {
  if (!(img.width > 0 && img.height > 0) || img.data.length !== img.width * img.height * 3) {
    throw invalidArgument(`image buffer of ${img.data.length} bytes does not hold ${img.width}x${img.height} RGB`);
  }
}

/** Stretch-resizes with sharp (bilinear), keeping 3 channels. */
export async function resizeRgb(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  checkImage(img);
  if (img.width === width && img.height === height) return img;
  const input = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length);
  const data = await sharp(input, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return { data, width, height };
}

/** The [1,H,W,3] float32 tensor `spec` wants for the whole image. */
export async function toInputTensor(img: RgbImage, spec: InputSpec): Promise<Tensor> {
  return pixelsToTensor((await resizeRgb(img, spec.width, spec.height)).data, spec);
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

/** The image flipped left to right (RGB, 3 bytes per pixel). */
export function mirrorImage(img: RgbImage): RgbImage {
  const { width, height, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      const src = row + x * 3;
      const dst = row + (width - 1 - x) * 3;
      out[dst] = data[src];
      out[dst + 1] = data[src + 1];
      out[dst + 2] = data[src + 2];
    }
  }
  return { width, height, data: out };
}

/** The image turned a quarter clockwise (`clockwise`) or counter-clockwise. */
export function rotateQuarter(img: RgbImage, clockwise: boolean): RgbImage {
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(data.length);
  // Output is h wide and w high; output (x, y) reads input (y, h-1-x) clockwise, (w-1-y, x) otherwise.
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < h; x++) {
      const sx = clockwise ? y : w - 1 - y;
      const sy = clockwise ? h - 1 - x : x;
      const src = (sy * w + sx) * 3;
      const dst = (y * h + x) * 3;
      out[dst] = data[src];
      out[dst + 1] = data[src + 1];
      out[dst + 2] = data[src + 2];
    }
  }
  return { data: out, width: h, height: w };
}
