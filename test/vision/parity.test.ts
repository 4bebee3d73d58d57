/**
 * Parity of the converted ONNX models (models/*.onnx) with their ORIGINAL runtimes.
 *
 * models/parity/<model>.json holds outputs recorded by tools/models/reference/record-parity.mjs
 * with LiteRT.js (the TFLite runtime, for the SSD) and TensorFlow.js (for the two TFJS graph
 * models) on real photos. This test feeds the very same recorded float32 input tensors to
 * onnxruntime-node and compares sampled values, summary statistics and decoded detections
 * within the tolerance stored in each record. Rebuild/re-record: see models/README.md.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import * as ort from 'onnxruntime-node';

// jest runs each test file in its own vm realm, but onnxruntime-node's native addon returns
// Float32Arrays of Node's main realm, which fail onnxruntime-common's `instanceof Float32Array`
// check ("A float32 tensor's data must be type of function Float32Array()"). Accept a
// Float32Array from any realm; this only changes this test file's realm.
Object.defineProperty(Float32Array, Symbol.hasInstance, {
  value: (x: unknown): boolean => ArrayBuffer.isView(x) && Object.prototype.toString.call(x) === '[object Float32Array]',
});

const MODELS_DIR = path.resolve(__dirname, '..', '..', 'models');
const PARITY_DIR = path.join(MODELS_DIR, 'parity');

interface Tolerance {
  abs: number;
  rel: number;
  sumRel: number;
}
interface Stats {
  sum: number;
  sumAbs: number;
  mean: number;
  min: number;
  max: number;
  argmin: number;
  argmax: number;
}
interface OutputRecord {
  shape: number[];
  count: number;
  stats: Stats;
  samples: Array<[number, number]>;
}
interface DetectionRecord {
  classId: number;
  label: string;
  score: number;
  box: number[];
  anchor?: number;
}
interface CaseRecord {
  image: string;
  input_file: string;
  input_sha256: string;
  input_shape: number[];
  outputs: Record<string, OutputRecord>;
  detections?: DetectionRecord[];
}
interface ParityRecord {
  model: string;
  onnx_file: string;
  tolerance: Tolerance;
  cases: CaseRecord[];
}
interface ManifestEntry {
  name: string;
  file: string;
  sha256: string;
  input: { name: string; shape: number[] };
}

const manifest = JSON.parse(fs.readFileSync(path.join(MODELS_DIR, 'manifest.json'), 'utf8')) as { models: ManifestEntry[] };

function sha256(buf: Buffer): string {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

function loadInput(c: CaseRecord): Float32Array {
  const raw = zlib.gunzipSync(fs.readFileSync(path.join(PARITY_DIR, c.input_file)));
  expect(sha256(raw)).toBe(c.input_sha256);
  const out = new Float32Array(raw.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = raw.readFloatLE(i * 4);
  expect(out.length).toBe(c.input_shape.reduce((a, b) => a * b, 1));
  return out;
}

function within(got: number, ref: number, tol: Tolerance): boolean {
  return Math.abs(got - ref) <= tol.abs + tol.rel * Math.abs(ref);
}

/** Compares one output with its record; returns the max abs diff over the compared values. */
function compareOutput(name: string, got: Float32Array, dims: readonly number[], rec: OutputRecord, tol: Tolerance): number {
  expect([...dims]).toEqual(rec.shape);
  expect(got.length).toBe(rec.count);
  let maxDiff = 0;
  const bad: string[] = [];
  for (const [i, ref] of rec.samples) {
    const d = Math.abs(got[i] - ref);
    maxDiff = Math.max(maxDiff, d);
    if (!within(got[i], ref, tol)) bad.push(`${name}[${i}]: onnx ${got[i]} vs ref ${ref}`);
  }
  let sum = 0,
    sumAbs = 0,
    min = Infinity,
    max = -Infinity;
  for (let i = 0; i < got.length; i++) {
    sum += got[i];
    sumAbs += Math.abs(got[i]);
    if (got[i] < min) min = got[i];
    if (got[i] > max) max = got[i];
  }
  if (!within(min, rec.stats.min, tol)) bad.push(`${name} min ${min} vs ${rec.stats.min}`);
  if (!within(max, rec.stats.max, tol)) bad.push(`${name} max ${max} vs ${rec.stats.max}`);
  if (Math.abs(sum - rec.stats.sum) > tol.sumRel * rec.stats.sumAbs + tol.abs) bad.push(`${name} sum ${sum} vs ${rec.stats.sum}`);
  if (Math.abs(sumAbs - rec.stats.sumAbs) > tol.sumRel * rec.stats.sumAbs + tol.abs)
    bad.push(`${name} sumAbs ${sumAbs} vs ${rec.stats.sumAbs}`);
  expect(bad.slice(0, 10)).toEqual([]);
  return maxDiff;
}

// ---------- SSD decoding (MediaPipe ObjectDetectionOidV4Subgraph options, see manifest) ----------
interface Anchor {
  xCenter: number;
  yCenter: number;
  w: number;
  h: number;
}

function ssdAnchors(): Anchor[] {
  const f32 = Math.fround;
  const strides = [16, 32, 64, 128, 256, 512];
  const aspectRatios = [1.0, 2.0, 0.5, 3.0, 0.3333];
  const minScale = 0.2,
    maxScale = 0.95,
    size = 300;
  const scaleAt = (i: number): number => f32(minScale + ((maxScale - minScale) * i) / (strides.length - 1));
  const anchors: Anchor[] = [];
  for (let layer = 0; layer < strides.length; layer++) {
    const ratios: number[] = [],
      scales: number[] = [];
    const scale = scaleAt(layer);
    if (layer === 0) {
      ratios.push(1.0, 2.0, 0.5);
      scales.push(0.1, scale, scale);
    } else {
      for (const ar of aspectRatios) {
        ratios.push(ar);
        scales.push(scale);
      }
      const next = layer === strides.length - 1 ? 1.0 : scaleAt(layer + 1);
      scales.push(f32(Math.sqrt(scale * next)));
      ratios.push(1.0);
    }
    const fm = Math.ceil(size / strides[layer]);
    for (let y = 0; y < fm; y++) {
      for (let x = 0; x < fm; x++) {
        for (let a = 0; a < ratios.length; a++) {
          const r = f32(Math.sqrt(f32(ratios[a])));
          anchors.push({ xCenter: f32((x + 0.5) / fm), yCenter: f32((y + 0.5) / fm), w: f32(scales[a] * r), h: f32(scales[a] / r) });
        }
      }
    }
  }
  return anchors;
}

interface Det {
  classId: number;
  score: number;
  box: number[];
  anchor?: number;
}

function iou(a: number[], b: number[]): number {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return uni > 0 ? inter / uni : 0;
}

function decodeSsd(boxes: Float32Array, scores: Float32Array, anchors: Anchor[], minScore: number): Det[] {
  const C = 24;
  const cands: Det[] = [];
  for (let i = 0; i < anchors.length; i++) {
    let best = -Infinity,
      cls = -1;
    for (let c = 1; c < C; c++) {
      // class 0 is background ('???'), ignored
      const s = 1 / (1 + Math.exp(-scores[i * C + c]));
      if (best < s) {
        best = s;
        cls = c;
      }
    }
    if (best < minScore) continue;
    const a = anchors[i];
    const yc = (boxes[i * 4] / 10) * a.h + a.yCenter;
    const xc = (boxes[i * 4 + 1] / 10) * a.w + a.xCenter;
    const h = Math.exp(boxes[i * 4 + 2] / 5) * a.h;
    const w = Math.exp(boxes[i * 4 + 3] / 5) * a.w;
    cands.push({ anchor: i, classId: cls, score: best, box: [xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2] });
  }
  cands.sort((p, q) => q.score - p.score || (p.anchor ?? 0) - (q.anchor ?? 0));
  const kept: Det[] = [];
  for (const d of cands) {
    if (kept.length >= 100) break;
    if (!kept.some((k) => iou(k.box, d.box) > 0.5)) kept.push(d);
  }
  return kept;
}

// ---------- CenterNet decoding (same as the model's own tower_0/detections sub-graph) ----------
function decodeCenterNet(heat: Float32Array, wh: Float32Array, minScore: number): Det[] {
  const H = 128,
    W = 128,
    C = 80;
  const dets: Det[] = [];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < C; c++) {
        const v = heat[(y * W + x) * C + c];
        if (v < minScore) continue;
        let isPeak = true;
        for (let dy = -1; dy <= 1 && isPeak; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy,
              xx = x + dx;
            if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
            if (heat[(yy * W + xx) * C + c] > v) {
              isPeak = false;
              break;
            }
          }
        }
        if (!isPeak) continue;
        const o = (y * W + x) * 4;
        dets.push({ classId: c, score: v, box: [4 * x - wh[o], 4 * y - wh[o + 1], 4 * x + wh[o + 2], 4 * y + wh[o + 3]] });
      }
    }
  }
  return dets.sort((p, q) => q.score - p.score);
}

/** Every detection of `a` above `minScore` has a counterpart in `b` (same class, close score and box). */
function unmatched(a: Det[], b: Det[], minScore: number, scoreTol: number, boxTol: number): Det[] {
  return a.filter(
    (d) =>
      d.score >= minScore &&
      !b.some(
        (e) =>
          e.classId === d.classId && Math.abs(e.score - d.score) <= scoreTol && d.box.every((v, k) => Math.abs(v - e.box[k]) <= boxTol),
      ),
  );
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();
function session(file: string): Promise<ort.InferenceSession> {
  let s = sessions.get(file);
  if (!s) {
    s = ort.InferenceSession.create(path.join(MODELS_DIR, file), { intraOpNumThreads: 2 });
    sessions.set(file, s);
  }
  return s;
}

const maxDiffs: Record<string, number> = {};
afterAll(() => {
  console.log('ONNX vs original runtime, max abs diff over compared values:', JSON.stringify(maxDiffs));
});

describe.each(manifest.models.map((m) => [m.name, m] as [string, ManifestEntry]))('ONNX parity: %s', (name, entry) => {
  const rec = JSON.parse(fs.readFileSync(path.join(PARITY_DIR, `${name}.json`), 'utf8')) as ParityRecord;

  test('ONNX file is the one named in the manifest', () => {
    expect(rec.onnx_file).toBe(entry.file);
    expect(sha256(fs.readFileSync(path.join(MODELS_DIR, entry.file)))).toBe(entry.sha256);
  });

  test.each(rec.cases.map((c) => [c.image, c] as [string, CaseRecord]))(
    'matches the reference on %s',
    async (_img, c) => {
      const sess = await session(entry.file);
      expect(sess.inputNames).toEqual([entry.input.name]);
      expect(c.input_shape).toEqual(entry.input.shape);
      const x = loadInput(c);
      const result = await sess.run({ [entry.input.name]: new ort.Tensor('float32', x, c.input_shape) });
      const out = (k: string): ort.Tensor => {
        const t = result[k];
        expect(t).toBeDefined();
        return t;
      };
      for (const [k, r] of Object.entries(c.outputs)) {
        const t = out(k);
        const d = compareOutput(k, t.data as Float32Array, t.dims, r, rec.tolerance);
        maxDiffs[`${name}/${c.image}/${k}`] = Number(d.toPrecision(3));
      }

      if (name === 'ssd_mobilenetv2_oidv4') {
        const ref = c.detections ?? [];
        expect(ref.length).toBeGreaterThan(0);
        const mine = decodeSsd(out('raw_boxes').data as Float32Array, out('raw_scores').data as Float32Array, ssdAnchors(), 0.5);
        // Detections with scores right at the 0.5 threshold could flip; compare those clear of it.
        expect(unmatched(ref, mine, 0.505, 1e-3, 1e-3)).toEqual([]);
        expect(unmatched(mine, ref, 0.505, 1e-3, 1e-3)).toEqual([]);
      }
      if (name === 'centernet_mobilenetv3_coco') {
        const ref = c.detections ?? []; // tower_0/detections of the TFJS graph, score >= 0.1
        expect(ref.length).toBeGreaterThan(0);
        const mine = decodeCenterNet(out('heatmap').data as Float32Array, out('wh').data as Float32Array, 0.1);
        expect(unmatched(ref, mine, 0.101, 1e-3, 0.05)).toEqual([]);
        expect(unmatched(mine, ref, 0.101, 1e-3, 0.05)).toEqual([]);
      }
      if (name === 'mobilenetv2_140_embedding') {
        const e = out('embedding').data as Float32Array;
        const r = new Float32Array(e.length);
        for (const [i, v] of c.outputs.embedding.samples) r[i] = v;
        let dot = 0,
          na = 0,
          nb = 0;
        for (let i = 0; i < e.length; i++) {
          dot += e[i] * r[i];
          na += e[i] * e[i];
          nb += r[i] * r[i];
        }
        expect(dot / Math.sqrt(na * nb)).toBeGreaterThan(0.99999);
      }
    },
    120000,
  );
});
