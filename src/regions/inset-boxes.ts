/**
 * Pictures inset into a photo: a product photo pasted into a scene, a screenshot of a shop
 * page, a collage, a flyer. Such a picture's edges are straight step edges along the image
 * axes, on all four sides, which few things in a natural scene are; and the feature map's
 * windows, whose cells also see the scene around the picture, place it poorly, while the
 * picture's own box embedded from its pixels matches its product as the whole image would.
 * So a query is searched by its inset's box as well, when it has one (docs/search.md).
 *
 * The image is read at most SAMPLE_SIDE pixels a side (nearest samples, which keep a step
 * edge a step). A row boundary supports a horizontal edge at a column when the colour
 * jumps there (EDGE_STEP) and much less a few rows away (a step, not texture); a side of a
 * box scores the share of its length so supported, less the share supported where its line
 * would run on past its corners. Candidate lines are the rows and columns with the most
 * support; every box of them is scored by its weakest side.
 * Bounded work: O(pixels) and at most (LINES + 2)^4 / 4 boxes.
 */
import type { Box } from '../vision/box';
import type { RgbImage } from '../vision/preprocess';

/** Longest side read. */
const SAMPLE_SIDE = 512;
/** A colour jump of at least this much (|dR| + |dG| + |dB|, 0..765) can be an edge. */
const EDGE_STEP = 36;
/** ... when it is at least this many times the jump STEP_GAP rows (columns) away on both sides. */
const STEP_RATIO = 2;
const STEP_GAP = 3;
/** Rows and columns kept as candidate sides. */
const LINES = 14;
/** An inset's weakest side scores at least this (its supported share less its overrun's):
 *  the best dev-split R@1 of 0.2-0.35 on the end-to-end eval (docs/search.md, "Insets"). */
export const INSET_MIN_SUPPORT = 0.25;
/** How far past a side's ends its line is checked, as a share of the side's length. */
const OVERRUN = 0.15;
/** An inset is at least this share of the image's width and of its height ... */
const MIN_SIDE_SHARE = 0.15;
/** ... and at most this share of its area (a frame around the whole image is no inset). */
const MAX_AREA_SHARE = 0.8;

export interface InsetBox {
  box: Box;
  /** The weakest side's score, INSET_MIN_SUPPORT..1 (a side on the image's border counts as
   *  INSET_MIN_SUPPORT). */
  support: number;
}

/** The best inset of the image, or none; boxes normalized to the image. */
export function insetBox(img: RgbImage): InsetBox | undefined {
  const step = Math.max(1, Math.ceil(Math.max(img.width, img.height) / SAMPLE_SIDE));
  const w = Math.floor(img.width / step);
  const h = Math.floor(img.height / step);
  if (w < 3 * STEP_GAP + 8 || h < 3 * STEP_GAP + 8) return undefined;
  // Samples cover step × w of the image's width (and likewise its height), up to a sample short of it.
  const toImage = (x0: number, y0: number, x1: number, y1: number): Box => ({
    x0: (x0 * step) / img.width,
    y0: (y0 * step) / img.height,
    x1: Math.min(1, (x1 * step) / img.width),
    y1: Math.min(1, (y1 * step) / img.height),
  });
  const rgb = sample(img, step, w, h);
  // rows[y] supports a horizontal edge between sampled rows y - 1 and y; cols[x] likewise.
  const rows = edgeSupport(rgb, w, h, true);
  const cols = edgeSupport(rgb, w, h, false);
  const ys = candidateLines(rows, w, h);
  const xs = candidateLines(cols, h, w);
  let best: InsetBox | undefined;
  for (let a = 0; a < ys.length; a++)
    for (let b = a + 1; b < ys.length; b++) {
      const y0 = ys[a];
      const y1 = ys[b];
      if (y1 - y0 < MIN_SIDE_SHARE * h) continue;
      for (let c = 0; c < xs.length; c++)
        for (let d = c + 1; d < xs.length; d++) {
          const x0 = xs[c];
          const x1 = xs[d];
          if (x1 - x0 < MIN_SIDE_SHARE * w || (x1 - x0) * (y1 - y0) > MAX_AREA_SHARE * w * h) continue;
          // A side on the image's border needs no edge (a picture pasted flush with it),
          // but at least three must be edges (two crossing lines make no picture: a picture
          // in a corner is not found), and it counts as the least support, so that a box
          // never wins by giving up a real side.
          const top = side(rows, w, h, y0, x0, x1);
          const bottom = side(rows, w, h, y1, x0, x1);
          const left = side(cols, h, w, x0, y0, y1);
          const right = side(cols, h, w, x1, y0, y1);
          const borders = +(top === undefined) + +(bottom === undefined) + +(left === undefined) + +(right === undefined);
          if (borders > 1) continue;
          const least = INSET_MIN_SUPPORT;
          const support = Math.min(top ?? least, bottom ?? least, left ?? least, right ?? least);
          if (support >= INSET_MIN_SUPPORT && (!best || support > best.support)) best = { box: toImage(x0, y0, x1, y1), support };
        }
    }
  return best;
}

function sample(img: RgbImage, step: number, w: number, h: number): Uint8Array {
  if (step === 1) return img.data.subarray(0, 3 * w * h);
  const out = new Uint8Array(3 * w * h);
  for (let y = 0, d = 0; y < h; y++)
    for (let x = 0; x < w; x++, d += 3) {
      const s = 3 * (y * step * img.width + x * step);
      out[d] = img.data[s];
      out[d + 1] = img.data[s + 1];
      out[d + 2] = img.data[s + 2];
    }
  return out;
}

/**
 * Prefix sums of edge support along each boundary line: out[l * (len + 1) + i] counts the
 * supported positions before i on line l, the boundary between pixel rows (columns, when
 * not `horizontal`) l - 1 and l; lines 0 and `lines` are the image's borders, never
 * supported.
 */
function edgeSupport(rgb: Uint8Array, w: number, h: number, horizontal: boolean): Int32Array {
  const [len, lines] = horizontal ? [w, h] : [h, w];
  // The colour jump at every position of every line (jumps[l * len + i]), read in the
  // pixels' order whichever the direction.
  const jumps = new Uint16Array(lines * len);
  const back = horizontal ? 3 * w : 3;
  for (let y = 0, p = 0; y < h; y++)
    for (let x = 0; x < w; x++, p += 3) {
      if ((horizontal ? y : x) === 0) continue;
      const q = p - back;
      jumps[horizontal ? y * len + x : x * len + y] =
        Math.abs(rgb[p] - rgb[q]) + Math.abs(rgb[p + 1] - rgb[q + 1]) + Math.abs(rgb[p + 2] - rgb[q + 2]);
    }
  const out = new Int32Array((lines + 1) * (len + 1));
  for (let l = 1; l < lines; l++) {
    const row = l * (len + 1);
    for (let i = 0; i < len; i++) {
      const j = jumps[l * len + i];
      const before = l > STEP_GAP ? jumps[(l - STEP_GAP) * len + i] : 0;
      const after = l + STEP_GAP < lines ? jumps[(l + STEP_GAP) * len + i] : 0;
      const supported = j >= EDGE_STEP && j >= STEP_RATIO * Math.max(before, after);
      out[row + i + 1] = out[row + i] + (supported ? 1 : 0);
    }
  }
  return out;
}

/** The LINES lines with the most support (each the best within STEP_GAP of it), in order,
 *  with the image's two borders. */
function candidateLines(support: Int32Array, len: number, lines: number): number[] {
  const total = (l: number): number => support[l * (len + 1) + len];
  const picked: number[] = [];
  const order = Array.from({ length: lines - 1 }, (_, i) => i + 1)
    .filter((l) => total(l) >= MIN_SIDE_SHARE * INSET_MIN_SUPPORT * len)
    .sort((a, b) => total(b) - total(a) || a - b);
  for (const l of order) {
    if (picked.length === LINES) break;
    if (picked.every((p) => Math.abs(p - l) > STEP_GAP)) picked.push(l);
  }
  return [0, ...picked.sort((a, b) => a - b), lines];
}

/**
 * The share of [from, to) supported on line l, less the share supported where the line
 * would go on past either end (OVERRUN of its length): a picture's edge stops at its
 * corners, a horizon or a shelf runs on. Undefined for the image's border.
 */
function side(support: Int32Array, len: number, lines: number, l: number, from: number, to: number): number | undefined {
  if (l === 0 || l === lines) return undefined;
  const row = l * (len + 1);
  const run = Math.max(1, Math.round(OVERRUN * (to - from)));
  const before = Math.max(0, from - run);
  const after = Math.min(len, to + run);
  const beyond = after - to + from - before;
  const inside = (support[row + to] - support[row + from]) / (to - from);
  const outside = support[row + after] - support[row + to] + support[row + from] - support[row + before];
  return beyond > 0 ? inside - outside / beyond : inside;
}
