/** Merging logic of ObjectDetector with fake models (the real ones: vision-models.e2e.test.ts). */
import { Code } from '../../src/core/errors';
import { RawDetection } from '../../src/vision/box';
import { LabelMap } from '../../src/vision/labels';
import { DetectorModel, ManifestDetector } from '../../src/vision/model-detectors';
import { InferenceSession } from '../../src/vision/inference';
import { InputSize } from '../../src/vision/model-io';
import { ModelEntry, ModelManifest } from '../../src/vision/model-manifest';
import { MODELS_DIR } from './parity-records';
import { ObjectDetector } from '../../src/vision/object-detector';
import { mirrorImage, RgbImage } from '../../src/vision/preprocess';

const IMG: RgbImage = { data: new Uint8Array(3), width: 1, height: 1 };
const DOG = { index: 1, name: 'Dog', open_images_name: 'Dog', mid: '/m/0bt9lr' };
const CAR = { index: 2, name: 'car', open_images_name: 'Car', mid: '/m/0k4j' };

function fake(name: string, dets: RawDetection[]): DetectorModel & { thresholds: number[] } {
  const entry = { name, labels: [{ index: 0, name: '???', open_images_name: null, mid: null }, DOG, CAR] } as unknown as ModelEntry;
  const thresholds: number[] = [];
  return {
    name,
    labels: LabelMap.fromManifest(entry),
    thresholds,
    detect: async (_img: RgbImage, min: number) => {
      thresholds.push(min);
      return dets.filter((d) => d.score >= min);
    },
  };
}
const det = (classIndex: number, score: number, x0: number, x1 = x0 + 0.2): RawDetection => ({
  classIndex,
  score,
  box: { x0, y0: 0.1, x1, y1: 0.5 },
});

describe('ObjectDetector', () => {
  test('maps to Open Images, calibrates, merges duplicates across models, sorts, clamps', async () => {
    const a = fake('a', [det(1, 0.7, 0.1), det(2, 0.6, 0.5, 1.2), det(0, 0.99, 0)]);
    // b's raw 0.45 becomes sigmoid(logit(0.45) + 1) = 0.69: beats nothing, merged into a's dog.
    const b = fake('b', [det(1, 0.45, 0.12), det(2, 0.45, 0.0)]);
    const od = new ObjectDetector([{ model: a }, { model: b, calibration: { scale: 1, shift: 1 } }], { mirror: 'never' });
    const got = await od.detect(IMG);
    expect(got.map((o) => [o.name, o.mid, o.model])).toEqual([
      ['Dog', '/m/0bt9lr', 'a'],
      ['Car', '/m/0k4j', 'b'],
      ['Car', '/m/0k4j', 'a'],
    ]);
    expect(got[1].score).toBeCloseTo(1 / (1 + Math.exp(-(Math.log(0.45 / 0.55) + 1))), 9);
    expect(got[2].box.x1).toBe(1); // clamped
    expect(a.thresholds).toEqual([0.5]);
    expect(b.thresholds[0]).toBeCloseTo(1 / (1 + Math.E), 9); // raw score that calibrates to 0.5
  });

  test('honours maxResults and minScore, validates them', async () => {
    const od = new ObjectDetector([{ model: fake('a', [det(1, 0.9, 0), det(1, 0.8, 0.4), det(2, 0.3, 0)]) }], { mirror: 'never' });
    expect(await od.detect(IMG, { maxResults: 1 })).toHaveLength(1);
    expect(await od.detect(IMG, { maxResults: 0 })).toEqual([]);
    expect((await od.detect(IMG, { minScore: 0.2 })).map((o) => o.score)).toEqual([0.9, 0.8, 0.3]);
    await expect(od.detect(IMG, { maxResults: -1 })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(od.detect(IMG, { minScore: 1 })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });

  test("mirror 'always': runs the models on the flipped image too and maps those boxes back", async () => {
    const seen: boolean[] = [];
    const model = fake('a', []);
    model.detect = async (_img: RgbImage, _min: number, mirrored = false) => {
      seen.push(mirrored);
      // Only the mirrored pass finds the dog, at the left of the flipped image.
      return mirrored ? [det(1, 0.8, 0.1, 0.3)] : [];
    };
    const img: RgbImage = { data: new Uint8Array([255, 0, 0, 0, 0, 255]), width: 2, height: 1 };
    const found = await new ObjectDetector([{ model }], { mirror: 'always' }).detect(img);
    expect(seen).toEqual([false, true]);
    expect(found).toHaveLength(1);
    expect(found[0].box.x0).toBeCloseTo(0.7);
    expect(found[0].box.x1).toBeCloseTo(0.9);
    seen.length = 0;
    await new ObjectDetector([{ model }], { mirror: 'never' }).detect(img);
    expect(seen).toHaveLength(1);
  });

  test("mirror 'unsure' (default): a second look only when the first pass had a candidate just under the threshold", async () => {
    const passes = (firstPass: RawDetection[]) => {
      let calls = 0;
      const model = fake('a', []);
      model.detect = async (_img: RgbImage, min: number) => {
        calls++;
        // The second (mirrored) pass confirms the dog above the threshold.
        return (calls === 1 ? firstPass : [det(1, 0.7, 0.5, 0.7)]).filter((d) => d.score >= min);
      };
      return { od: new ObjectDetector([{ model }]), calls: () => calls };
    };
    const unsure = passes([det(1, 0.4, 0.3, 0.5)]);
    const found = await unsure.od.detect(IMG);
    expect(unsure.calls()).toBe(2);
    expect(found.map((o) => [o.name, o.score])).toEqual([['Dog', 0.7]]); // the 0.4 candidate itself is not reported
    const sure = passes([det(1, 0.9, 0.3, 0.5)]);
    expect((await sure.od.detect(IMG)).map((o) => o.score)).toEqual([0.9]);
    expect(sure.calls()).toBe(1);
    const nothing = passes([]);
    expect(await nothing.od.detect(IMG)).toEqual([]);
    expect(nothing.calls()).toBe(1);
  });

  test("mirror 'unsure': only the unsure model looks again; a candidate covered by a reported object of its class is not unsure", async () => {
    const counted = (name: string, firstPass: RawDetection[], secondPass: RawDetection[]) => {
      const model = fake(name, []);
      const seen: boolean[] = [];
      model.detect = async (_img: RgbImage, min: number, mirrored = false) => {
        seen.push(mirrored);
        return (seen.length === 1 ? firstPass : secondPass).filter((d) => d.score >= min);
      };
      return { model, seen };
    };
    // a: a sure dog and a weaker dog on the same place (NMS folds it in), so a is sure.
    const a = counted('a', [det(1, 0.9, 0.3, 0.5), det(1, 0.4, 0.31, 0.5)], []);
    // b: a car under the threshold that nothing covers; mirrored it reaches 0.6.
    const b = counted('b', [det(2, 0.4, 0.6, 0.8)], [det(2, 0.6, 0.2, 0.4)]);
    const img: RgbImage = { data: new Uint8Array([255, 0, 0, 0, 0, 255]), width: 2, height: 1 };
    const found = await new ObjectDetector([{ model: a.model }, { model: b.model }]).detect(img);
    expect(a.seen).toEqual([false]);
    expect(b.seen).toEqual([false, true]); // the second look is at the mirror image
    expect(found.map((o) => [o.name, o.score])).toEqual([
      ['Dog', 0.9],
      ['Car', 0.6],
    ]);
    expect(found[1].box.x0).toBeCloseTo(0.6);
  });
});

describe('ManifestDetector', () => {
  /** A session that records what the detector sends it and finds nothing. */
  const recorder = () => {
    const runs: { pixels: Uint8Array; size: InputSize }[] = [];
    const session: InferenceSession = {
      inputNames: ['image'],
      outputNames: [],
      run: async () => ({}),
      detectPixels: async (pixels, _min, size) => {
        runs.push({ pixels, size });
        return [];
      },
      close: async () => undefined,
    };
    return { session, runs };
  };
  const photo = (width: number, height: number): RgbImage => {
    const data = new Uint8Array(width * height * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i % 5) * 31) & 255;
    return { data, width, height };
  };

  test('CenterNet (free dims) keeps the aspect ratio; the SSD gets its fixed size', async () => {
    const manifest = await ModelManifest.load(MODELS_DIR);
    const sizes = async (model: string, w: number, h: number) => {
      const { session, runs } = recorder();
      await new ManifestDetector(session, manifest.entry(model)).detect(photo(w, h), 0.5);
      return runs[0].size;
    };
    expect(await sizes('centernet_mobilenetv3_coco', 640, 424)).toEqual({ width: 512, height: 352 });
    expect(await sizes('centernet_mobilenetv3_coco', 300, 451)).toEqual({ width: 352, height: 512 });
    expect(await sizes('centernet_mobilenetv3_coco', 2000, 20)).toEqual({ width: 512, height: 32 });
    expect(await sizes('centernet_mobilenetv3_coco', 100, 100)).toEqual({ width: 512, height: 512 });
    expect(await sizes('ssd_mobilenetv2_oidv4', 640, 424)).toEqual({ width: 300, height: 300 });
  });

  test('a mirrored look sends the same resized input flipped', async () => {
    const manifest = await ModelManifest.load(MODELS_DIR);
    const { session, runs } = recorder();
    const detector = new ManifestDetector(session, manifest.entry('centernet_mobilenetv3_coco'));
    const img = photo(64, 48);
    await detector.detect(img, 0.5);
    await detector.detect(img, 0.5, true);
    const [plain, mirrored] = runs;
    expect(mirrored.size).toEqual(plain.size);
    expect(Buffer.from(mirrored.pixels).equals(Buffer.from(mirrorImage({ data: plain.pixels, ...plain.size }).data))).toBe(true);
    expect(Buffer.from(mirrored.pixels).equals(Buffer.from(plain.pixels))).toBe(false);
  });
});
