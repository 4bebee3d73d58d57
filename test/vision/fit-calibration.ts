/**
 * Re-derives the CenterNet score calibration in src/vision/calibration.ts. Not a jest test
 * (it takes ~15 s): run `npx tsx test/vision/fit-calibration.ts`.
 *
 * For each development photo and 4 variants (horizontal flip, centre 80% crop, left and
 * right 80% crops) both detectors run with a low threshold (0.05, raw); each SSD
 * detection is paired with the unused CenterNet detection of the same Open Images MID
 * with the highest IoU >= 0.5; pairs where both raw scores are >= 0.2 are kept and the
 * median logit gap is the shift. Prints every pair, the fit and the score correlation.
 */
import '../support/onnx-env';
import * as fs from 'node:fs';
import { iou } from '../../src/vision/box';
import { fitLogitShift, ScorePair } from '../../src/vision/calibration';
import { cropRgb, RgbImage } from '../../src/vision/preprocess';
import { ModelManifest } from '../../src/vision/model-manifest';
import { ManifestDetector } from '../../src/vision/model-detectors';
import { OnnxSession } from '../../src/vision/onnx-session';
import { devImagesDir, loadRgb } from '../support/dev-images';
import { MODELS_DIR } from './parity-records';

function flip(img: RgbImage): RgbImage {
  const d = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const s = (y * img.width + (img.width - 1 - x)) * 3;
      d.set(img.data.subarray(s, s + 3), (y * img.width + x) * 3);
    }
  }
  return { data: d, width: img.width, height: img.height };
}

const variants = (img: RgbImage): RgbImage[] => [
  img,
  flip(img),
  cropRgb(img, { x0: 0.1, y0: 0.1, x1: 0.9, y1: 0.9 }),
  cropRgb(img, { x0: 0, y0: 0, x1: 0.8, y1: 1 }),
  cropRgb(img, { x0: 0.2, y0: 0, x1: 1, y1: 1 }),
];

async function main(): Promise<void> {
  const manifest = await ModelManifest.load(MODELS_DIR);
  const ssd = new ManifestDetector(
    await OnnxSession.load(manifest, 'ssd_mobilenetv2_oidv4', { intraOpNumThreads: 2 }),
    manifest.entry('ssd_mobilenetv2_oidv4'),
  );
  const cn = new ManifestDetector(
    await OnnxSession.load(manifest, 'centernet_mobilenetv3_coco', { intraOpNumThreads: 2 }),
    manifest.entry('centernet_mobilenetv3_coco'),
  );
  const pairs: ScorePair[] = [];
  const files = fs
    .readdirSync(devImagesDir())
    .filter((f) => /\.(jpg|png)$/.test(f))
    .sort();
  for (const f of files) {
    for (const img of variants(await loadRgb(f))) {
      const s = (await ssd.detect(img, 0.05)).map((d) => ({ ...d, mid: ssd.labels.lookup(d.classIndex)?.mid }));
      const c = (await cn.detect(img, 0.05)).map((d) => ({ ...d, mid: cn.labels.lookup(d.classIndex)?.mid }));
      const used = new Set<number>();
      for (const a of s) {
        let best = -1;
        let bestIou = 0.5;
        c.forEach((b, k) => {
          const o = iou(a.box, b.box);
          if (!used.has(k) && b.mid === a.mid && o >= bestIou) {
            best = k;
            bestIou = o;
          }
        });
        if (best < 0) continue;
        used.add(best);
        if (a.score >= 0.2 && c[best].score >= 0.2) {
          pairs.push({ reference: a.score, other: c[best].score });
          console.log(f, ssd.labels.lookup(a.classIndex)?.name, a.score.toFixed(3), c[best].score.toFixed(3));
        }
      }
    }
  }
  const lg = (p: number): number => Math.log(p / (1 - p));
  const xs = pairs.map((p) => lg(p.other));
  const ys = pairs.map((p) => lg(p.reference));
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(xs),
    my = mean(ys);
  const cov = mean(xs.map((x, i) => (x - mx) * (ys[i] - my)));
  const r = cov / Math.sqrt(mean(xs.map((x) => (x - mx) ** 2)) * mean(ys.map((y) => (y - my) ** 2)));
  console.log(`pairs ${pairs.length}, correlation of logits r=${r.toFixed(2)}, fit ${JSON.stringify(fitLogitShift(pairs))}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
