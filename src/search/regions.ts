/**
 * Which regions of a reference image get indexed. Given polygons win (Google: "if it is
 * specified, detection is ALWAYS skipped"): each becomes its axis-aligned rectangle, and
 * normalized ones are checked against Google's size rules now that the image size is
 * known. Without polygons, the detector's objects of classes that fit the product's
 * category are used; when none fits, the whole image is one region. (Google answers
 * INVALID_ARGUMENT in that case; a self-hosted catalog keeps the image searchable instead.)
 */
import { checkRectangle } from '../catalog/rules';
import type { PolyRecord, RegionRecord } from '../store/catalog-store';

/** Product category -> the Open Images classes (our detectors' vocabulary) that fit it. */
export const CATEGORY_CLASSES: Readonly<Record<string, readonly string[] | 'any'>> = {
  'apparel-v2': ['Footwear', 'Boot', 'High heels', 'Handbag', 'Backpack', 'Tie', 'Suitcase', 'Umbrella'],
  'homegoods-v2': [
    'Chair', 'Table', 'Desk', 'Kitchen & dining room table', 'Couch', 'Bed', 'Bench', 'Mug', 'Coffee cup', 'Bowl',
    'Wine glass', 'Vase', 'Clock', 'Houseplant', 'Fork', 'Knife', 'Spoon', 'Toaster', 'Microwave oven', 'Oven',
    'Refrigerator', 'Sink', 'Toilet', 'Television', 'Computer monitor', 'Book',
  ],
  'toys-v2': ['Teddy bear', 'Kite', 'Ball', 'Flying disc', 'Skateboard', 'Bicycle', 'Car', 'Airplane', 'Boat', 'Train'],
  'packagedgoods-v1': ['Bottle', 'Box', 'Book', 'Mug', 'Coffee cup', 'Wine glass'],
  'general-v1': 'any',
};
// The legacy categories mean what their -v2 successors mean.
const LEGACY: Record<string, string> = { apparel: 'apparel-v2', homegoods: 'homegoods-v2', toys: 'toys-v2' };

export function classesForCategory(category: string): readonly string[] | 'any' {
  return CATEGORY_CLASSES[LEGACY[category] ?? category] ?? 'any';
}

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

export function selectRegions(
  polys: readonly PolyRecord[],
  detected: readonly DetectedRegion[],
  category: string,
  size: ImageSize,
): Pick<RegionRecord, 'box' | 'source'>[] {
  if (polys.length > 0) return polys.slice(0, MAX_REGIONS).map((p, i) => ({ box: polyBox(p, size, i), source: 'request' as const }));
  const fits = classesForCategory(category);
  const chosen = detected.filter((d) => fits === 'any' || fits.includes(d.name)).slice(0, MAX_REGIONS);
  if (chosen.length === 0) return [{ box: wholeImageBox(size), source: 'whole-image' }];
  return chosen.map((d) => ({ box: detectedBox(d, size), source: 'detected' as const }));
}

/** A detected object's region in whole pixels of the image, as the index stores it. */
export function detectedBox(d: DetectedRegion, size: ImageSize): RegionRecord['box'] {
  return clampPx({ x0: d.box.x0 * size.width, y0: d.box.y0 * size.height, x1: d.box.x1 * size.width, y1: d.box.y1 * size.height }, size);
}

export function wholeImageBox(size: ImageSize): RegionRecord['box'] {
  return { x0: 0, y0: 0, x1: size.width, y1: size.height };
}

/**
 * The product category a class belongs to: the first narrower category that lists it (in
 * CATEGORY_CLASSES order; e.g. Book is homegoods-v2 before packagedgoods-v1), else
 * general-v1, which takes every class.
 */
export function categoryOfClass(name: string): string {
  for (const [category, classes] of Object.entries(CATEGORY_CLASSES)) {
    if (classes !== 'any' && classes.includes(name)) return category;
  }
  return 'general-v1';
}

/** A category as its current name (the legacy apparel/homegoods/toys mean their -v2). */
export function canonicalCategory(category: string): string {
  return LEGACY[category] ?? category;
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
