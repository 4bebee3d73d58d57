// Decoders for the two detectors, as documented in models/manifest.json.
// SSD: MediaPipe ObjectDetectionOidV4Subgraph (SsdAnchorsCalculator +
// TensorsToDetectionsCalculator + NonMaxSuppressionCalculator options, read from the
// graph config embedded in @mediapipe/objectron's wasm). CenterNet: the model's own
// tower_0/detections sub-graph (3x3 max-pool peaks, top-k, box = 4*(x,y) -/+ wh).

export const SSD_ANCHOR_OPTIONS = {
  inputSizeWidth: 300, inputSizeHeight: 300, minScale: 0.2, maxScale: 0.95,
  anchorOffsetX: 0.5, anchorOffsetY: 0.5, numLayers: 6,
  strides: [16, 32, 64, 128, 256, 512], aspectRatios: [1.0, 2.0, 0.5, 3.0, 0.3333],
  reduceBoxesInLowestLayer: true, interpolatedScaleAspectRatio: 1.0, fixedAnchorSize: false,
};

const f32 = Math.fround;

function calculateScale(minScale, maxScale, strideIndex, numStrides) {
  if (numStrides === 1) return f32((minScale + maxScale) * 0.5);
  return f32(minScale + (maxScale - minScale) * strideIndex / (numStrides - 1));
}

// Port of mediapipe/calculators/tflite/ssd_anchors_calculator.cc (no feature_map_* given).
export function ssdAnchors(o = SSD_ANCHOR_OPTIONS) {
  const anchors = [];
  let layerId = 0;
  while (layerId < o.numLayers) {
    const heights = [], widths = [], ratios = [], scales = [];
    let last = layerId;
    while (last < o.strides.length && o.strides[last] === o.strides[layerId]) {
      const scale = calculateScale(o.minScale, o.maxScale, last, o.strides.length);
      if (last === 0 && o.reduceBoxesInLowestLayer) {
        ratios.push(1.0, 2.0, 0.5);
        scales.push(0.1, scale, scale);
      } else {
        for (const ar of o.aspectRatios) { ratios.push(ar); scales.push(scale); }
        if (o.interpolatedScaleAspectRatio > 0) {
          const next = last === o.strides.length - 1 ? 1.0
            : calculateScale(o.minScale, o.maxScale, last + 1, o.strides.length);
          scales.push(f32(Math.sqrt(scale * next)));
          ratios.push(o.interpolatedScaleAspectRatio);
        }
      }
      last++;
    }
    for (let i = 0; i < ratios.length; i++) {
      const r = f32(Math.sqrt(f32(ratios[i])));
      heights.push(f32(scales[i] / r));
      widths.push(f32(scales[i] * r));
    }
    const stride = o.strides[layerId];
    const fh = Math.ceil(o.inputSizeHeight / stride);
    const fw = Math.ceil(o.inputSizeWidth / stride);
    for (let y = 0; y < fh; y++) {
      for (let x = 0; x < fw; x++) {
        for (let a = 0; a < heights.length; a++) {
          anchors.push({
            xCenter: f32((x + o.anchorOffsetX) / fw),
            yCenter: f32((y + o.anchorOffsetY) / fh),
            w: o.fixedAnchorSize ? 1 : widths[a],
            h: o.fixedAnchorSize ? 1 : heights[a],
          });
        }
      }
    }
    layerId = last;
  }
  return anchors;
}

export const SSD_DECODE_OPTIONS = {
  numClasses: 24, numBoxes: 1917, xScale: 10, yScale: 10, wScale: 5, hScale: 5,
  ignoreClasses: [0], sigmoidScore: true, applyExponentialOnBoxSize: true,
  minScoreThresh: 0.5, nmsIouThreshold: 0.5, maxDetections: 100,
};

export function iou(a, b) {
  const ix = Math.max(0, Math.min(a.xmax, b.xmax) - Math.max(a.xmin, b.xmin));
  const iy = Math.max(0, Math.min(a.ymax, b.ymax) - Math.max(a.ymin, b.ymin));
  const inter = ix * iy;
  const uni = (a.xmax - a.xmin) * (a.ymax - a.ymin) + (b.xmax - b.xmin) * (b.ymax - b.ymin) - inter;
  return uni > 0 ? inter / uni : 0;
}

// Greedy, class-agnostic NMS (MediaPipe NonMaxSuppressionCalculator, DEFAULT algorithm,
// INTERSECTION_OVER_UNION); input sorted by score descending.
export function nms(dets, thr, maxDet) {
  const kept = [];
  for (const d of dets) {
    if (kept.length >= maxDet) break;
    if (!kept.some((k) => iou(k, d) > thr)) kept.push(d);
  }
  return kept;
}

// Port of TensorsToDetectionsCalculator (reverse_output_order=false: y, x, h, w).
export function decodeSsd(rawBoxes, rawScores, anchors, o = SSD_DECODE_OPTIONS, minScore = o.minScoreThresh) {
  const cands = [];
  for (let i = 0; i < o.numBoxes; i++) {
    let best = -Infinity, cls = -1;
    for (let c = 0; c < o.numClasses; c++) {
      if (o.ignoreClasses.includes(c)) continue;
      let s = rawScores[i * o.numClasses + c];
      if (o.sigmoidScore) s = 1 / (1 + Math.exp(-s));
      if (best < s) { best = s; cls = c; }
    }
    if (best < minScore) continue;
    const a = anchors[i];
    const r = rawBoxes.subarray(i * 4, i * 4 + 4);
    const yc = r[0] / o.yScale * a.h + a.yCenter;
    const xc = r[1] / o.xScale * a.w + a.xCenter;
    const h = o.applyExponentialOnBoxSize ? Math.exp(r[2] / o.hScale) * a.h : r[2] / o.hScale * a.h;
    const w = o.applyExponentialOnBoxSize ? Math.exp(r[3] / o.wScale) * a.w : r[3] / o.wScale * a.w;
    cands.push({ anchor: i, classId: cls, score: best,
      xmin: xc - w / 2, ymin: yc - h / 2, xmax: xc + w / 2, ymax: yc + h / 2 });
  }
  cands.sort((p, q) => q.score - p.score || p.anchor - q.anchor);
  return nms(cands, o.nmsIouThreshold, o.maxDetections);
}

// CenterNet peak decoding, identical to the graph's tower_0/detections sub-graph:
// keep heatmap values equal to their 3x3 (SAME) max-pool, top-k over the flattened
// [128*128*80] array, box in 512-pixel input coordinates.
export function decodeCenterNet(heat, wh, k = 100, H = 128, W = 128, C = 80) {
  const vals = [];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < C; c++) {
        const v = heat[(y * W + x) * C + c];
        let m = v;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy, xx = x + dx;
            if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
            m = Math.max(m, heat[(yy * W + xx) * C + c]);
          }
        }
        vals.push({ idx: (y * W + x) * C + c, score: v === m ? v : 0 });
      }
    }
  }
  vals.sort((p, q) => q.score - p.score || p.idx - q.idx);
  return vals.slice(0, k).map(({ idx, score }) => {
    const c = idx % C, p = Math.floor(idx / C), x = p % W, y = Math.floor(p / W);
    const o = p * 4;
    return { classId: c, score, x, y,
      x1: 4 * x - wh[o], y1: 4 * y - wh[o + 1], x2: 4 * x + wh[o + 2], y2: 4 * y + wh[o + 3] };
  });
}
