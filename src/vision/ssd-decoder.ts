/**
 * Decoder of the OIDv4 SSD's raw outputs, a port of MediaPipe's SsdAnchorsCalculator,
 * TensorsToDetectionsCalculator and NonMaxSuppressionCalculator with the options recorded
 * in models/manifest.json (reference: tools/models/reference/decode.mjs). Anchor numbers
 * are rounded to float32 like MediaPipe's C++ so boxes match the reference to ~1e-7.
 */
import { RawDetection } from './box';
import { SsdDecoding } from './model-manifest';
import { classAgnostic, nms } from './nms';

interface Anchor {
  xc: number;
  yc: number;
  w: number;
  h: number;
}

const f32 = Math.fround;

export function ssdAnchors(o: SsdDecoding['anchors']): Anchor[] {
  const n = o.strides.length;
  const scaleAt = (i: number): number =>
    n === 1 ? f32((o.min_scale + o.max_scale) / 2) : f32(o.min_scale + ((o.max_scale - o.min_scale) * i) / (n - 1));
  // [height, width] as MediaPipe's input_size_height/width; the manifest's is square anyway.
  const [inH, inW] = o.input_size;
  const anchors: Anchor[] = [];
  for (let layer = 0; layer < n; layer++) {
    const ratios: number[] = [];
    const scales: number[] = [];
    const scale = scaleAt(layer);
    if (layer === 0 && o.reduce_boxes_in_lowest_layer) {
      ratios.push(1.0, 2.0, 0.5);
      scales.push(0.1, scale, scale);
    } else {
      for (const ar of o.aspect_ratios) {
        ratios.push(ar);
        scales.push(scale);
      }
      if (o.interpolated_scale_aspect_ratio > 0) {
        const next = layer === n - 1 ? 1.0 : scaleAt(layer + 1);
        scales.push(f32(Math.sqrt(scale * next)));
        ratios.push(o.interpolated_scale_aspect_ratio);
      }
    }
    const fh = Math.ceil(inH / o.strides[layer]);
    const fw = Math.ceil(inW / o.strides[layer]);
    for (let y = 0; y < fh; y++) {
      for (let x = 0; x < fw; x++) {
        for (let a = 0; a < ratios.length; a++) {
          const r = f32(Math.sqrt(f32(ratios[a])));
          anchors.push({ xc: f32((x + 0.5) / fw), yc: f32((y + 0.5) / fh), w: f32(scales[a] * r), h: f32(scales[a] / r) });
        }
      }
    }
  }
  return anchors;
}

export class SsdDecoder {
  private readonly anchors: Anchor[];

  /** `numClasses` includes the background class 0, which is never reported. */
  constructor(
    private readonly opts: SsdDecoding,
    private readonly numClasses: number,
  ) {
    this.anchors = ssdAnchors(opts.anchors);
  }

  get numAnchors(): number {
    return this.anchors.length;
  }

  /**
   * Best non-background class per anchor (sigmoid of the logit), kept if >= minScore
   * (default: the manifest's 0.5), then class-agnostic greedy NMS as MediaPipe does.
   * Boxes are normalized to the stretched input, hence to the original image.
   */
  decode(rawBoxes: Float32Array, rawScores: Float32Array, minScore = this.opts.min_score): RawDetection[] {
    const C = this.numClasses;
    const { x: sx, y: sy, w: sw, h: sh } = this.opts.box_coder.scales;
    if (rawBoxes.length !== this.anchors.length * 4 || rawScores.length !== this.anchors.length * C) {
      throw new RangeError(
        `SSD outputs have ${rawBoxes.length}/${rawScores.length} values, expected ${this.anchors.length} anchors x 4/${C}`,
      );
    }
    // Comparing logits avoids 1917*23 exp() calls; sigmoid is monotone.
    const minLogit = Math.log(minScore / (1 - minScore));
    const cands: RawDetection[] = [];
    for (let i = 0; i < this.anchors.length; i++) {
      let best = -Infinity;
      let cls = -1;
      for (let c = 1; c < C; c++) {
        const v = rawScores[i * C + c];
        if (v > best) {
          best = v;
          cls = c;
        }
      }
      if (best < minLogit) continue;
      const a = this.anchors[i];
      const yc = (rawBoxes[i * 4] / sy) * a.h + a.yc;
      const xc = (rawBoxes[i * 4 + 1] / sx) * a.w + a.xc;
      const h = Math.exp(rawBoxes[i * 4 + 2] / sh) * a.h;
      const w = Math.exp(rawBoxes[i * 4 + 3] / sw) * a.w;
      cands.push({
        classIndex: cls,
        score: 1 / (1 + Math.exp(-best)),
        box: { x0: xc - w / 2, y0: yc - h / 2, x1: xc + w / 2, y1: yc + h / 2 },
      });
    }
    return nms(cands, this.opts.nms.iou_threshold, this.opts.nms.max_detections, classAgnostic);
  }
}
