/**
 * SSD and CenterNet decoders: small synthetic cases pin the formulas; the recorded parity
 * cases check the full decoders against the reference decoders' detections
 * (models/parity/*.json) on the ONNX outputs for the recorded input tensors.
 */
import '../support/onnx-env';
import { CenterNetDecoder } from '../../src/vision/centernet-decoder';
import { ModelManifest, centerNetDecoding, ssdDecoding } from '../../src/vision/model-manifest';
import { OnnxSession } from '../../src/vision/onnx-session';
import { SsdDecoder, ssdAnchors } from '../../src/vision/ssd-decoder';
import { MODELS_DIR, parityCases, recordedInput } from './parity-records';

const SSD = 'ssd_mobilenetv2_oidv4';
const CENTERNET = 'centernet_mobilenetv3_coco';
let manifest: ModelManifest;
beforeAll(async () => {
  manifest = await ModelManifest.load(MODELS_DIR);
});

const logit = (p: number): number => Math.log(p / (1 - p));
const cnGeometry = { gridH: 4, gridW: 4, numClasses: 2, inputH: 16, inputW: 16, topK: 100 };

describe('SSD anchors and box coder', () => {
  test('1917 anchors in MediaPipe order', () => {
    const a = ssdAnchors(ssdDecoding(manifest.entry(SSD)).anchors);
    expect(a).toHaveLength(1917);
    // Layer 0, cell (0,0): scale 0.1 ratio 1, then scale 0.2 ratio 2 and 0.5.
    expect(a[0]).toEqual({ xc: Math.fround(0.5 / 19), yc: Math.fround(0.5 / 19), w: Math.fround(0.1), h: Math.fround(0.1) });
    expect(a[1].w).toBeCloseTo(0.2 * Math.SQRT2, 6);
    expect(a[1].h).toBeCloseTo(0.2 / Math.SQRT2, 6);
    // Last anchor: the 1x1 layer's interpolated one, sqrt(0.95 * 1.0) square, centred.
    expect(a[1916].xc).toBeCloseTo(0.5, 7);
    expect(a[1916].w).toBeCloseTo(Math.sqrt(0.95), 6);
  });

  test('zero encodings give the anchor box; only the best class above minScore counts', () => {
    const dec = new SsdDecoder(ssdDecoding(manifest.entry(SSD)), 24);
    const boxes = new Float32Array(1917 * 4);
    const scores = new Float32Array(1917 * 24).fill(-10);
    scores[1916 * 24 + 0] = 10; // background: ignored
    scores[1916 * 24 + 20] = logit(0.8);
    scores[1916 * 24 + 3] = logit(0.6);
    boxes.set([1, -2, 0, 5 * Math.log(0.5)], 1916 * 4); // shift y by 0.1*h, x by -0.2*w; halve w
    const got = dec.decode(boxes, scores);
    expect(got).toHaveLength(1);
    expect(got[0].classIndex).toBe(20);
    expect(got[0].score).toBeCloseTo(0.8, 6);
    const s = Math.sqrt(0.95);
    const xc = 0.5 - 0.2 * s,
      yc = 0.5 + 0.1 * s;
    expect(got[0].box.x0).toBeCloseTo(xc - s / 4, 5);
    expect(got[0].box.x1).toBeCloseTo(xc + s / 4, 5);
    expect(got[0].box.y0).toBeCloseTo(yc - s / 2, 5);
    expect(dec.decode(boxes, scores, 0.9)).toEqual([]);
  });

  test('rejects outputs of the wrong size', () => {
    const dec = new SsdDecoder(ssdDecoding(manifest.entry(SSD)), 24);
    expect(() => dec.decode(new Float32Array(4), new Float32Array(24))).toThrow(RangeError);
  });
});

describe('CenterNet peak decoding', () => {
  test('keeps 3x3 maxima per class, boxes from wh at stride input/grid', () => {
    const heat = new Float32Array(4 * 4 * 2);
    const wh = new Float32Array(4 * 4 * 4);
    const at = (x: number, y: number, c: number): number => (y * 4 + x) * 2 + c;
    heat[at(1, 1, 0)] = 0.9;
    heat[at(2, 1, 0)] = 0.5; // neighbour of a higher peak of the same class: dropped
    heat[at(2, 1, 1)] = 0.7; // same cell, other class: kept
    heat[at(3, 3, 0)] = 0.3;
    wh.set([2, 1, 2, 3], (1 * 4 + 1) * 4);
    const got = new CenterNetDecoder(cnGeometry).decode(heat, wh, 0.2);
    expect(got.map((d) => [d.classIndex, d.score])).toEqual([
      [0, Math.fround(0.9)],
      [1, Math.fround(0.7)],
      [0, Math.fround(0.3)],
    ]);
    // Peak at cell (1,1) -> point (4,4) px; box [4-2, 4-1, 4+2, 4+3] / 16.
    expect(got[0].box).toEqual({ x0: 2 / 16, y0: 3 / 16, x1: 6 / 16, y1: 7 / 16 });
    expect(new CenterNetDecoder({ ...cnGeometry, topK: 1 }).decode(heat, wh, 0.2)).toHaveLength(1);
    expect(() => new CenterNetDecoder(cnGeometry).decode(heat, wh, 0)).toThrow(RangeError);
  });

  test('equal neighbours are both peaks (max-pool equality, as the graph does)', () => {
    const heat = new Float32Array(4 * 4 * 2);
    heat[(0 * 4 + 0) * 2] = 0.4;
    heat[(0 * 4 + 1) * 2] = 0.4;
    expect(new CenterNetDecoder(cnGeometry).decode(heat, new Float32Array(64), 0.1)).toHaveLength(2);
  });
});

describe('decoders match the reference decoders on the parity records', () => {
  const sessions = new Map<string, Promise<OnnxSession>>();
  const session = (name: string): Promise<OnnxSession> => {
    if (!sessions.has(name)) sessions.set(name, OnnxSession.load(manifest, name, { warmUp: false }));
    return sessions.get(name)!;
  };
  afterAll(async () => {
    for (const s of sessions.values()) await (await s).close();
  });

  test.each(parityCases(SSD).map((c) => [c.image, c] as const))('SSD on %s', async (_name, c) => {
    const entry = manifest.entry(SSD);
    const out = await (await session(entry.name)).run({ image: recordedInput(c) });
    const got = new SsdDecoder(ssdDecoding(entry), 24).decode(out.raw_boxes.data, out.raw_scores.data);
    const ref = c.detections ?? [];
    expect(ref.length).toBeGreaterThan(0);
    // Same count, order, classes; scores within 1e-3 and boxes within 1e-3 (the parity tolerance).
    expect(got.map((d) => d.classIndex)).toEqual(ref.map((d) => d.classId));
    got.forEach((d, i) => {
      expect(Math.abs(d.score - ref[i].score)).toBeLessThan(1e-3);
      [d.box.x0, d.box.y0, d.box.x1, d.box.y1].forEach((v, k) => expect(Math.abs(v - ref[i].box[k])).toBeLessThan(1e-3));
    });
  });

  test.each(parityCases(CENTERNET).map((c) => [c.image, c] as const))('CenterNet on %s', async (_name, c) => {
    const entry = manifest.entry(CENTERNET);
    const out = await (await session(entry.name)).run({ image: recordedInput(c) });
    const dec = new CenterNetDecoder({
      gridH: 128,
      gridW: 128,
      numClasses: 80,
      inputH: 512,
      inputW: 512,
      topK: centerNetDecoding(entry).top_k,
    });
    // The record holds the graph's own detections with score >= 0.1, in 512-px units.
    const got = dec.decode(out.heatmap.data, out.wh.data, 0.1);
    const ref = c.detections ?? [];
    expect(got).toHaveLength(ref.length);
    got.forEach((d, i) => {
      expect(d.classIndex).toBe(ref[i].classId);
      expect(Math.abs(d.score - ref[i].score)).toBeLessThan(1e-3);
      [d.box.x0, d.box.y0, d.box.x1, d.box.y1].forEach((v, k) => expect(Math.abs(v * 512 - ref[i].box[k])).toBeLessThan(0.05));
    });
  });
});
