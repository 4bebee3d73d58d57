/**
 * Decoder of the CenterNet heatmap/wh outputs, equal to the original graph's own
 * tower_0/detections sub-graph (models/manifest.json; reference:
 * tools/models/reference/decode.mjs): a heatmap cell is a detection of its class when it
 * equals the max of its 3x3 neighbourhood (ties keep both), the top_k highest are kept,
 * and the box is [4x - l, 4y - t, 4x + r, 4y + b] in input pixels. No NMS: the graph has
 * none, so the same box may come out with two classes (car and truck).
 */
import { RawDetection } from './box';

export interface CenterNetGeometry {
  /** Heatmap grid [height, width] and number of classes (channels). */
  gridH: number;
  gridW: number;
  numClasses: number;
  /** Model input size in pixels [height, width]; the grid stride is input / grid. */
  inputH: number;
  inputW: number;
  topK: number;
}

export class CenterNetDecoder {
  constructor(private readonly g: CenterNetGeometry) {}

  /**
   * Peaks with score >= minScore (must be > 0: the reference keeps zero-score rows to
   * fill top_k, which are never useful), best first, at most top_k; boxes normalized to
   * the input, hence to the original image (the input is the stretched image).
   */
  decode(heat: Float32Array, wh: Float32Array, minScore: number): RawDetection[] {
    const { gridH: H, gridW: W, numClasses: C, inputH, inputW, topK } = this.g;
    if (heat.length !== H * W * C || wh.length !== H * W * 4) {
      throw new RangeError(`CenterNet outputs have ${heat.length}/${wh.length} values, expected ${H}x${W}x${C}/4`);
    }
    if (!(minScore > 0)) throw new RangeError('CenterNet minScore must be > 0');
    const sx = inputW / W;
    const sy = inputH / H;
    const peaks: { idx: number; score: number }[] = [];
    for (let idx = 0; idx < heat.length; idx++) {
      const v = heat[idx];
      if (v < minScore) continue;
      const c = idx % C;
      const cell = (idx - c) / C;
      const x = cell % W;
      const y = (cell - x) / W;
      if (isPeak(heat, x, y, c, v, W, H, C)) peaks.push({ idx, score: v });
    }
    // Same order as the graph's TopKV2 over the flattened heatmap: score, then index.
    peaks.sort((p, q) => q.score - p.score || p.idx - q.idx);
    return peaks.slice(0, topK).map(({ idx, score }) => {
      const c = idx % C;
      const cell = (idx - c) / C;
      const x = cell % W;
      const y = (cell - x) / W;
      const o = cell * 4;
      return {
        classIndex: c,
        score,
        box: {
          x0: (sx * x - wh[o]) / inputW,
          y0: (sy * y - wh[o + 1]) / inputH,
          x1: (sx * x + wh[o + 2]) / inputW,
          y1: (sy * y + wh[o + 3]) / inputH,
        },
      };
    });
  }
}

function isPeak(heat: Float32Array, x: number, y: number, c: number, v: number, W: number, H: number, C: number): boolean {
  for (let dy = -1; dy <= 1; dy++) {
    const yy = y + dy;
    if (yy < 0 || yy >= H) continue;
    for (let dx = -1; dx <= 1; dx++) {
      const xx = x + dx;
      if (xx < 0 || xx >= W) continue;
      if (heat[(yy * W + xx) * C + c] > v) return false;
    }
  }
  return true;
}
