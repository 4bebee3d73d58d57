/**
 * The regions a query image is searched with, and the ones that stand for products of a
 * category on both sides. A product can be anywhere in a photo and of any kind, so the
 * detectors' objects (24 + 80 classes) are not enough on their own: every query is also
 * looked at as a whole, turned a quarter either way, and through windows that depend on no
 * vocabulary (a product pasted into a larger scene, a book, a plant), pooled from the
 * embedder's feature map at no further inference.
 * All boxes are normalized to the image, inside [0,1], and the same image always gives the
 * same list.
 */
import type { Box } from '../vision/box';
import { l2Normalize } from '../core/vectors';
import type { FeatureMap } from '../vision/embedder';
import type { DetectedObject } from '../vision/object-detector';
import { resizeRgb, type RgbImage } from '../vision/preprocess';
import { canonicalCategory, classesForCategory } from './categories';

/** What regions need of a detection: its class and where it is. */
export type Detection = Pick<DetectedObject, 'name' | 'box'>;

/** whole: the image as it is; rotated: turned a quarter either way; object and garment:
 *  detected; window: pooled from the feature map; inset: a picture inside the picture
 *  (inset-boxes.ts), embedded from its pixels. */
export type RegionKind = 'whole' | 'rotated' | 'object' | 'garment' | 'window' | 'inset';

export interface QueryRegion {
  kind: RegionKind;
  box: Box;
  /** The detected object (a person's for garments) the region comes from. */
  object?: Detection;
  /** For garments: which part of the figure. */
  garment?: GarmentPart;
}

export const WHOLE_BOX: Box = { x0: 0, y0: 0, x1: 1, y1: 1 };

/** The feature map's grid for query windows: 448×448 input, 14×14 cells. */
export const WINDOW_MAP_SIDE = 448;

/**
 * Windows of a query scored from the feature map alone, in cells of an n×n map: squares of
 * 5/14 and 8/14 of the side every 3/14 (25 on a 14×14 map). Each is the mean of its cells
 * (IntegralMap), so they cost no inference; measured on the end-to-end eval (docs/search.md).
 */
export function pooledWindowBoxes(n: number): Box[] {
  return gridBoxes(n, [Math.round((5 * n) / 14), Math.round((8 * n) / 14)], Math.max(1, Math.round((3 * n) / 14)));
}

/** Longest side of the small view of a reference image (smallView). */
export const SMALL_VIEW_SIDE = 128;

/**
 * The image as a thumbnail: its longer side at SMALL_VIEW_SIDE pixels. Indexed beside the
 * whole image, it is what a low-resolution query (a thumbnail, a far-away shot) looks like
 * once both are stretched to the embedder's input: blur meets blur.
 */
export async function smallView(img: RgbImage): Promise<RgbImage> {
  const scale = SMALL_VIEW_SIDE / Math.max(img.width, img.height);
  if (scale >= 1) return img;
  return resizeRgb(img, Math.max(1, Math.round(img.width * scale)), Math.max(1, Math.round(img.height * scale)));
}

/** Unit-length means of any cell-aligned block of a feature map in O(channels). */
export class IntegralMap {
  private readonly sums: Float64Array;
  private readonly h: number;
  private readonly w: number;
  private readonly c: number;

  constructor(map: FeatureMap) {
    const { h, w, c, data } = map;
    this.h = h;
    this.w = w;
    this.c = c;
    // sums[(y * (w + 1) + x) * c + k] = sum of channel k over cells above-left of (x, y).
    const s = new Float64Array((h + 1) * (w + 1) * c);
    for (let y = 1; y <= h; y++) {
      for (let x = 1; x <= w; x++) {
        const o = (y * (w + 1) + x) * c;
        const up = ((y - 1) * (w + 1) + x) * c;
        const left = (y * (w + 1) + x - 1) * c;
        const diag = ((y - 1) * (w + 1) + x - 1) * c;
        const cell = ((y - 1) * w + (x - 1)) * c;
        for (let k = 0; k < c; k++) s[o + k] = data[cell + k] + s[up + k] + s[left + k] - s[diag + k];
      }
    }
    this.sums = s;
  }

  /** The mean of the block of whole cells a normalized box covers (at least one). */
  pool(box: Box): Float32Array {
    const span = (lo: number, hi: number, n: number) => {
      const a = Math.max(0, Math.min(n - 1, Math.floor(lo * n + 1e-6)));
      return [a, Math.max(a + 1, Math.min(n, Math.ceil(hi * n - 1e-6)))];
    };
    const [x0, x1] = span(box.x0, box.x1, this.w);
    const [y0, y1] = span(box.y0, box.y1, this.h);
    const at = (x: number, y: number) => (y * (this.w + 1) + x) * this.c;
    const [a, b, c, d] = [at(x1, y1), at(x0, y1), at(x1, y0), at(x0, y0)];
    const out = new Float32Array(this.c);
    for (let k = 0; k < this.c; k++) out[k] = this.sums[a + k] - this.sums[b + k] - this.sums[c + k] + this.sums[d + k];
    return l2Normalize(out);
  }
}

export type GarmentPart = 'upper' | 'lower' | 'full';

/**
 * A person's clothes, for apparel: no detector here knows garments, but a person box says
 * where they are. Upper body 15–60 % of the figure's height (below the face), lower body
 * 45–100 %, and the whole figure.
 */
export function garmentBoxes(person: Box): { part: GarmentPart; box: Box }[] {
  const h = person.y1 - person.y0;
  return [
    { part: 'upper', box: { ...person, y0: person.y0 + 0.15 * h, y1: person.y0 + 0.6 * h } },
    { part: 'lower', box: { ...person, y0: person.y0 + 0.45 * h } },
    { part: 'full', box: { ...person } },
  ];
}

/** Objects that stand for products of `category`: the classes that fit it, and for apparel
 *  the garments of every person. */
export function categoryRegions<D extends Detection>(objects: readonly D[], category: string): (QueryRegion & { object?: D })[] {
  const fits = classesForCategory(category);
  const apparel = canonicalCategory(category) === 'apparel-v2';
  const out: (QueryRegion & { object?: D })[] = [];
  for (const o of objects) {
    if (fits === 'any' || fits.includes(o.name)) out.push({ kind: 'object', box: o.box, object: o });
    else if (apparel && o.name === 'Person')
      for (const g of garmentBoxes(o.box)) out.push({ kind: 'garment', box: g.box, object: o, garment: g.part });
  }
  return out;
}

/** Squares of k×k cells of an n×n grid for each k, every `stride` cells, normalized. */
function gridBoxes(n: number, sizes: readonly number[], stride: number): Box[] {
  const out: Box[] = [];
  for (const k of sizes) {
    for (let y = 0; y + k <= n; y += stride)
      for (let x = 0; x + k <= n; x += stride) out.push({ x0: x / n, y0: y / n, x1: (x + k) / n, y1: (y + k) / n });
  }
  return out;
}
