/**
 * End to end on real photos with the real models: the merged detector finds the dog, the
 * bicycle and the car of darknet_dog.jpg where a human puts them, and the embedder gives
 * unit vectors equal (up to scale) to the reference runtime's and ranks crops sensibly.
 */
import '../support/onnx-env';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Box, iou } from '../../src/vision/box';
import { dot } from '../../src/core/vectors';
import { cropRgb, RgbImage } from '../../src/vision/preprocess';
import { loadVisionModels, VisionModels } from '../../src/vision/vision-models';
import { loadRgb } from '../support/dev-images';
import { MODELS_DIR } from './parity-records';

/** Boxes measured by hand on darknet_dog.jpg (768x576 px), from a gridded rendering. */
const W = 768,
  H = 576;
const px = (x0: number, y0: number, x1: number, y1: number): Box => ({ x0: x0 / W, y0: y0 / H, x1: x1 / W, y1: y1 / H });
const EXPECTED = [
  { name: 'Dog', mid: '/m/0bt9lr', box: px(132, 222, 310, 540) },
  { name: 'Bicycle', mid: '/m/0199g', box: px(125, 135, 567, 420) },
  { name: 'Car', mid: '/m/0k4j', box: px(470, 75, 688, 170) }, // the white pickup behind
];

let models: VisionModels;
let dog: RgbImage;
beforeAll(async () => {
  [models, dog] = await Promise.all([loadVisionModels(MODELS_DIR, { intraOpNumThreads: 1 }), loadRgb('darknet_dog.jpg')]);
  expect([dog.width, dog.height]).toEqual([W, H]);
}, 30000);
afterAll(async () => {
  await models?.close();
});

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timeMs(f: () => Promise<unknown>, n: number): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    await f();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  return median(t);
}

describe('ObjectDetector on darknet_dog.jpg', () => {
  test('finds Dog, Bicycle and Car at the hand-measured places', async () => {
    const got = await models.objectDetector.detect(dog);
    for (const want of EXPECTED) {
      const best = Math.max(0, ...got.filter((o) => o.name === want.name && o.mid === want.mid).map((o) => iou(o.box, want.box)));
      expect({ name: want.name, iouAtLeastHalf: best >= 0.5 }).toEqual({ name: want.name, iouAtLeastHalf: true });
    }
    const scores = got.map((o) => o.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(got.every((o) => o.score >= 0.5 && o.box.x0 >= 0 && o.box.x1 <= 1 && o.box.x0 < o.box.x1 && o.box.y0 < o.box.y1)).toBe(true);
  });

  test('maxResults keeps the best ones; a lower threshold adds candidates from both models', async () => {
    const top = await models.objectDetector.detect(dog, { maxResults: 1 });
    expect(top).toHaveLength(1);
    expect(top[0].name).toBe('Dog');
    const many = await models.objectDetector.detect(dog, { minScore: 0.2, maxResults: 50 });
    expect(new Set(many.map((o) => o.model)).size).toBe(2);
    expect(many.length).toBeGreaterThan(3);
  });
});

describe('ObjectDetector merging on skimage_coffee.png', () => {
  test('the cup is reported once; cups left at a low threshold do not overlap', async () => {
    const img = await loadRgb('skimage_coffee.png');
    const got = await models.objectDetector.detect(img);
    expect(got.filter((o) => o.name === 'Coffee cup' && o.mid === '/m/02p5f1q')).toHaveLength(1);
    const low = await models.objectDetector.detect(img, { minScore: 0.3, maxResults: 50 });
    const cups = low.filter((o) => o.name === 'Coffee cup');
    // Any two cups left after NMS overlap by at most 0.5.
    for (let i = 0; i < cups.length; i++)
      for (let j = i + 1; j < cups.length; j++) expect(iou(cups[i].box, cups[j].box)).toBeLessThanOrEqual(0.5);
  });
});

describe("CenterNet at each image's own aspect ratio", () => {
  test('a 8:3 crop (input 512x192) finds the car where it is in the crop', async () => {
    const top = cropRgb(dog, { x0: 0, y0: 0, x1: 1, y1: 0.5 }); // 768x288
    const car = EXPECTED[2].box;
    const want = { ...car, y0: car.y0 * 2, y1: car.y1 * 2 };
    const got = await models.objectDetector.detect(top);
    expect(Math.max(0, ...got.filter((o) => o.name === 'Car').map((o) => iou(o.box, want)))).toBeGreaterThanOrEqual(0.5);
  });

  test('very wide and very tall strips (CenterNet inputs 512x32 and 32x512) run through the real models', async () => {
    for (const box of [
      { x0: 0, y0: 0.2, x1: 1, y1: 0.24 },
      { x0: 0.3, y0: 0, x1: 0.33, y1: 1 },
    ]) {
      const got = await models.objectDetector.detect(cropRgb(dog, box), { minScore: 0.05, maxResults: 100 });
      for (const { box: b } of got) expect(b.x0 >= 0 && b.y0 >= 0 && b.x1 <= 1 && b.y1 <= 1 && b.x0 <= b.x1 && b.y0 <= b.y1).toBe(true);
    }
  });
});

describe('Embedder', () => {
  test('unit length, deterministic, and the same direction as the reference runtime', async () => {
    const a = await models.embedder.embed(dog);
    expect(a).toHaveLength(1792);
    expect(dot(a, a)).toBeCloseTo(1, 5);
    expect(dot(a, await models.embedder.embed(dog))).toBeCloseTo(1, 6);
    const rec = JSON.parse(fs.readFileSync(path.join(MODELS_DIR, 'parity', 'mobilenetv2_140_embedding.json'), 'utf8')) as {
      cases: { image: string; outputs: { embedding: { samples: [number, number][] } } }[];
    };
    const ref = new Float32Array(1792);
    for (const [i, v] of rec.cases.find((c) => c.image === 'darknet_dog.jpg')!.outputs.embedding.samples) ref[i] = v;
    expect(dot(a, ref) / Math.sqrt(dot(ref, ref))).toBeGreaterThan(0.9999);
  });

  test('a slightly shifted crop of the dog is nearer than the bicycle or another photo', async () => {
    const d = EXPECTED[0].box;
    const q = await models.embedder.embed(dog, d);
    const shifted = await models.embedder.embed(dog, { x0: d.x0 + 0.02, y0: d.y0 + 0.02, x1: d.x1 + 0.02, y1: d.y1 });
    const bike = await models.embedder.embed(dog, EXPECTED[1].box);
    const coffee = await models.embedder.embed(await loadRgb('skimage_coffee.png'));
    expect(dot(q, shifted)).toBeGreaterThan(Math.max(dot(q, bike), dot(q, coffee)));
  });

  test('the worker pool (pixels in, detections out) gives the same bits as the main-thread path', async () => {
    const local = await loadVisionModels(MODELS_DIR, { workers: 0 });
    try {
      for (const box of [undefined, EXPECTED[0].box]) {
        const [a, b] = [await models.embedder.embed(dog, box), await local.embedder.embed(dog, box)];
        expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
      }
      expect(await models.objectDetector.detect(dog, { minScore: 0.3, maxResults: 50 })).toEqual(
        await local.objectDetector.detect(dog, { minScore: 0.3, maxResults: 50 }),
      );
    } finally {
      await local.close();
    }
  }, 30000);

  test('latency (logged, loosely bounded)', async () => {
    const detectMs = await timeMs(() => models.objectDetector.detect(dog), 3);
    const embedMs = await timeMs(() => models.embedder.embed(dog, EXPECTED[0].box), 3);
    console.log(
      `vision latency on darknet_dog.jpg (768x576), median of 3: detect ${detectMs.toFixed(1)} ms, embed ${embedMs.toFixed(1)} ms`,
    );
    expect(detectMs).toBeLessThan(2000);
    expect(embedMs).toBeLessThan(1000);
  });
});
