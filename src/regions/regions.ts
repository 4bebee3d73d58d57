/**
 * Which regions of a reference image get indexed. Given polygons win (Google: "if it is
 * specified, detection is ALWAYS skipped"): each becomes its axis-aligned rectangle, and
 * normalized ones are checked against Google's size rules now that the image size is
 * known. Without polygons the image is indexed by the whole image, always first, then by
 * the regions that stand for products of its category (region-proposals.ts: the detected
 * objects whose class fits, and for apparel the garments of each person). The whole image
 * keeps anything the detectors have no name for searchable, and matches a query of the
 * same photo however the detectors read either.
 */
import { checkRectangle } from '../core/rectangle-rule';
import type { PolyRecord, RegionRecord } from '../store/catalog-store';
import { categoryRegions } from './region-proposals';

export { CATEGORY_CLASSES, canonicalCategory, categoryOfClass, classesForCategory } from './categories';

export interface DetectedRegion {
  name: string;
  score: number;
  /** Normalized to the image. */
  box: { x0: number; y0: number; x1: number; y1: number };
}

export interface ImageSize {
  width: number;
  height: number;
}

/** At most this many regions per reference image, as Google uses at most 10 polygons. */
export const MAX_REGIONS = 10;

/**
 * The objects a reference image without polygons may add under a cap on all its regions
 * (METAPIXEL_MAX_REGIONS_PER_IMAGE): the whole image and its thumbnail (ingestor.ts) come
 * first, objects fill what is left, never more than MAX_REGIONS - 1. 0 = no detection needed.
 */
export function objectRoom(cap: number): number {
  return Math.max(0, Math.min(MAX_REGIONS - 1, cap - 2));
}

export function selectRegions(
  polys: readonly PolyRecord[],
  detected: readonly DetectedRegion[],
  category: string,
  size: ImageSize,
  cap = Infinity,
): Pick<RegionRecord, 'box' | 'source'>[] {
  if (polys.length > 0)
    return polys.slice(0, Math.min(MAX_REGIONS, cap)).map((p, i) => ({ box: polyBox(p, size, i), source: 'request' as const }));
  const parts = categoryRegions(detected, category).slice(0, objectRoom(cap));
  return [
    { box: wholeImageBox(size), source: 'whole-image' as const },
    ...parts.map((r) => ({ box: detectedBox(r, size), source: r.kind === 'garment' ? ('garment' as const) : ('detected' as const) })),
  ];
}

/** A normalized box as the index stores it: whole pixels of the image. */
export function detectedBox(d: { box: DetectedRegion['box'] }, size: ImageSize): RegionRecord['box'] {
  return clampPx({ x0: d.box.x0 * size.width, y0: d.box.y0 * size.height, x1: d.box.x1 * size.width, y1: d.box.y1 * size.height }, size);
}

export function wholeImageBox(size: ImageSize): RegionRecord['box'] {
  return { x0: 0, y0: 0, x1: size.width, y1: size.height };
}

/** A polygon's axis-aligned rectangle in pixels, clamped to the image. */
function polyBox(p: PolyRecord, size: ImageSize, i: number): RegionRecord['box'] {
  const sx = p.normalized ? size.width : 1;
  const sy = p.normalized ? size.height : 1;
  // Pixel polygons were checked at create time; normalized ones can only be checked now.
  if (p.normalized) checkRectangle(p.vertices, sx, `reference_image.bounding_polys[${i}]`, sy);
  const xs = p.vertices.map((v) => v.x * sx);
  const ys = p.vertices.map((v) => v.y * sy);
  return clampPx({ x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) }, size);
}

function clampPx(b: RegionRecord['box'], size: ImageSize): RegionRecord['box'] {
  const cx = (v: number) => Math.max(0, Math.min(size.width, Math.round(v)));
  const cy = (v: number) => Math.max(0, Math.min(size.height, Math.round(v)));
  return { x0: cx(b.x0), y0: cy(b.y0), x1: cx(b.x1), y1: cy(b.y1) };
}
