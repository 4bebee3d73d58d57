import { iou } from '../../src/vision/box';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { calibrate, fitLogitShift, IDENTITY_CALIBRATION, rawThreshold, type ScoreCalibration } from '../../src/vision/calibration';

/** The shipped calibration of the CenterNet model, from the models manifest. */
const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'models', 'manifest.json'), 'utf8')) as {
  models: { name: string; runtime: { calibration?: ScoreCalibration } }[];
};
const CENTERNET = manifest.models.find((m) => m.name === 'centernet_mobilenetv3_coco')!.runtime.calibration!;
import { classAgnostic, nms } from '../../src/vision/nms';

const box = (x0: number, y0: number, x1: number, y1: number) => ({ x0, y0, x1, y1 });

describe('iou', () => {
  test('basic cases', () => {
    expect(iou(box(0, 0, 1, 1), box(0, 0, 1, 1))).toBe(1);
    expect(iou(box(0, 0, 1, 1), box(1, 0, 2, 1))).toBe(0);
    expect(iou(box(0, 0, 2, 1), box(1, 0, 3, 1))).toBeCloseTo(1 / 3);
    expect(iou(box(0, 0, 0, 0), box(0, 0, 0, 0))).toBe(0);
  });
});

describe('nms', () => {
  const a = { k: 'dog', score: 0.9, box: box(0, 0, 1, 1) };
  const b = { k: 'dog', score: 0.8, box: box(0, 0, 1, 0.9) }; // IoU 0.9 with a
  const c = { k: 'cat', score: 0.85, box: box(0, 0, 1, 0.9) };
  const d = { k: 'dog', score: 0.7, box: box(0, 0, 1, 0.5) }; // IoU 0.5 with a: not > 0.5, kept

  test('class-aware: only the same key suppresses; sorted by score', () => {
    expect(nms([d, b, c, a], 0.5, 10, (x) => x.k)).toEqual([a, c, d]);
  });
  test('class-agnostic suppresses across keys', () => {
    expect(nms([d, b, c, a], 0.5, 10, classAgnostic)).toEqual([a, d]);
  });
  test('maxKept and ties keep input order', () => {
    const t1 = { k: 'x', score: 0.5, box: box(0, 0, 0.1, 0.1) };
    const t2 = { k: 'x', score: 0.5, box: box(0.5, 0.5, 0.6, 0.6) };
    expect(nms([t1, t2], 0.5, 1, (x) => x.k)).toEqual([t1]);
    expect(nms([t2, t1], 0.5, 1, (x) => x.k)).toEqual([t2]);
  });
});

describe('calibration', () => {
  test('identity and round trip', () => {
    expect(calibrate(IDENTITY_CALIBRATION, 0.37)).toBeCloseTo(0.37, 12);
    const cn = CENTERNET;
    for (const p of [0.05, 0.3, 0.5, 0.9]) expect(calibrate(cn, rawThreshold(cn, p))).toBeCloseTo(p, 9);
  });
  test('CenterNet raw scores are lifted, monotonically', () => {
    const cn = CENTERNET;
    expect(rawThreshold(cn, 0.5)).toBeCloseTo(0.423, 3);
    const xs = [0.01, 0.1, 0.3, 0.5, 0.7, 0.99].map((p) => calibrate(cn, p));
    expect([...xs].sort((p, q) => p - q)).toEqual(xs);
    expect(xs.every((v, i) => v > [0.01, 0.1, 0.3, 0.5, 0.7, 0.99][i])).toBe(true);
  });
});

describe('fitLogitShift', () => {
  test('median gap in logit space', () => {
    const s = (p: number): number => 1 / (1 + Math.exp(-p));
    const pairs = [
      [1, 0.5],
      [0, -0.5],
      [2, 1.2],
      [-1, -3],
    ].map(([r, o]) => ({ reference: s(r), other: s(o) }));
    // gaps 0.5, 0.5, 0.8, 2 -> median 0.65
    expect(fitLogitShift(pairs).shift).toBeCloseTo(0.65, 9);
    expect(fitLogitShift(pairs.slice(0, 3)).shift).toBeCloseTo(0.5, 9);
    expect(() => fitLogitShift([])).toThrow(RangeError);
  });
});
