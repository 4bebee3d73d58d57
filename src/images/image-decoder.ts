/**
 * Bytes -> oriented 8-bit sRGB pixels, with sharp. Defends against decompression bombs
 * (the pixel count is checked from the header before any pixel is decoded), applies EXIF
 * orientation, flattens alpha on white, converts CMYK / greyscale / 16-bit to 8-bit RGB,
 * takes the first frame of animations, and downsizes very large images so that memory per
 * image stays bounded (boxes are normalised, so this changes no result's coordinates).
 */
import sharp, { type Metadata } from 'sharp';
import { parse as parseIcc } from 'icc';
import { invalidArgument } from '../core/errors';

export interface DecodedImage {
  /** Interleaved RGB, 3 bytes per pixel, row-major. */
  data: Uint8Array;
  width: number;
  height: number;
  /** Size of the oriented original, before any downsizing (pixel polys refer to this). */
  originalWidth: number;
  originalHeight: number;
}

export interface DecodeLimits {
  /** Largest width × height accepted (header-checked before decoding). */
  maxPixels: number;
  /** Longest side kept after decoding; larger images are downsized. */
  maxSide: number;
  /** Smallest side accepted. */
  minSide: number;
}

/** The formats decoded (sharp's names), with their media types. */
const MEDIA_TYPES: Readonly<Record<string, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  heif: 'image/heif',
  tiff: 'image/tiff',
  jp2: 'image/jp2',
};
const FORMATS = new Set(Object.keys(MEDIA_TYPES));
/** The pixel limit is checked against the header here, not by sharp; the first frame only. */
const INPUT = { limitInputPixels: false, failOn: 'error', pages: 1 } as const;

/** The media type of an image the decoder takes, read from its header; undefined for anything else. */
export async function imageMediaType(bytes: Uint8Array): Promise<string | undefined> {
  if (bytes.length === 0) return undefined;
  try {
    const { format } = await sharp(bytes, INPUT).metadata();
    return format ? MEDIA_TYPES[format] : undefined;
  } catch {
    return undefined;
  }
}

export class ImageDecoder {
  constructor(private readonly limits: DecodeLimits) {}

  async decode(bytes: Uint8Array): Promise<DecodedImage> {
    if (bytes.length === 0) throw invalidArgument('Bad image data: the image is empty.');
    let meta: Metadata;
    try {
      meta = await sharp(bytes, INPUT).metadata();
    } catch {
      throw invalidArgument('Bad image data: not a supported image format (JPEG, PNG, WebP, GIF, AVIF, HEIC, TIFF).');
    }
    if (!meta.format || !FORMATS.has(meta.format) || !meta.width || !meta.height) {
      throw invalidArgument(`Bad image data: unsupported format ${meta.format ?? 'unknown'}.`);
    }
    const pageHeight = meta.pageHeight ?? meta.height;
    if (meta.width * pageHeight > this.limits.maxPixels) {
      throw invalidArgument(`Image too large: ${meta.width}×${pageHeight} pixels exceeds the limit of ${this.limits.maxPixels} pixels.`);
    }
    // EXIF orientations 5–8 swap width and height.
    const swap = (meta.orientation ?? 1) >= 5;
    const originalWidth = swap ? pageHeight : meta.width;
    const originalHeight = swap ? meta.width : pageHeight;
    if (Math.min(originalWidth, originalHeight) < this.limits.minSide) {
      throw invalidArgument(
        `Image too small: ${originalWidth}×${originalHeight}; each side must be at least ${this.limits.minSide} pixels.`,
      );
    }
    try {
      const { data, info } = await sharp(bytes, { ...INPUT, ignoreIcc: isSrgbProfile(meta.icc) })
        .rotate()
        .flatten({ background: '#ffffff' })
        .toColourspace('srgb')
        .resize({ width: this.limits.maxSide, height: this.limits.maxSide, fit: 'inside', withoutEnlargement: true })
        .removeAlpha()
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels`);
      return {
        data: new Uint8Array(data.buffer, data.byteOffset, data.length),
        width: info.width,
        height: info.height,
        originalWidth,
        originalHeight,
      };
    } catch (e) {
      throw invalidArgument(`Bad image data: the image could not be decoded (${(e as Error).message.slice(0, 120)}).`);
    }
  }
}

// The IEC profile (HP/Microsoft, Apple, Android, ...) and libvips' own; not look-alikes
// such as "sRGB-elle-V4-g10", whose tone curve is linear.
const SRGB_DESCRIPTION = /^sRGB( IEC61966-2[.-]1( black scaled)?| built-in)?$/i;

/**
 * True when an embedded ICC profile describes sRGB itself (most camera and web photos
 * carry one). Converting sRGB to sRGB is the identity, bit for bit, yet costs lcms
 * 4–7 ms per photo; other profiles (Display P3, Adobe RGB, CMYK) are still converted.
 */
export function isSrgbProfile(profile: Buffer | undefined): boolean {
  if (!profile) return false;
  try {
    const p = parseIcc(profile);
    return p.colorSpace === 'RGB' && SRGB_DESCRIPTION.test(p.description ?? '');
  } catch {
    return false; // an unparseable profile is left to libvips, which reports or ignores it
  }
}
