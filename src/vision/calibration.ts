/**
 * Score calibration, so that one threshold means roughly the same for both detectors.
 *
 * Each model's score goes through a monotone map p -> sigmoid(scale * logit(p) + shift).
 * Monotone, so each model's ranking is unchanged and a calibrated threshold converts back
 * to an exact raw threshold (rawThreshold), which is what the decoders are given.
 *
 * The values are a simple, measured heuristic, NOT a probability calibration (there is no
 * labelled validation set offline):
 * - SSD (OIDv4): identity. Its scores are sigmoid-ed logits and MediaPipe's own operating
 *   point is 0.5, so calibrated 0.5 = the SSD's documented threshold.
 * - CenterNet (COCO): shift +0.31, scale 1. Fitted (fitLogitShift, then rounded from
 *   0.306) by test/vision/fit-calibration.ts as the median logit gap
 *   logit(ssd) - logit(centernet) over 51 pairs of detections of the same object (same
 *   Open Images MID, IoU >= 0.5, both raw scores >= 0.2) on the 12 development photos
 *   (test/fixtures/dev-images) and 4 variants of each (flip, centre crop, left
 *   and right crops), with CenterNet given each image at its own aspect ratio (model-io.ts
 *   inputSize); the pairs come from only a few of the photos, so they are few and
 *   correlated. The two models' scores for the same object correlate weakly (r = 0.24),
 *   so a slope could not be fitted and only the level is aligned: CenterNet raw 0.42
 *   maps to 0.5, raw 0.5 to 0.58, raw 0.3 to 0.37. (Fitted on stretched 512x512 inputs,
 *   before CenterNet kept the aspect ratio, the shift was 0.36.)
 *   By eye this keeps CenterNet's clear hits (horses 0.65-0.80, bird 0.75, zebra 0.60)
 *   above 0.5 and its weak false positives (truck on darknet_dog 0.35, the person on
 *   the motorcycles' background 0.35) below it.
 */
export interface ScoreCalibration {
  scale: number;
  shift: number;
}

export const IDENTITY_CALIBRATION: ScoreCalibration = Object.freeze({ scale: 1, shift: 0 });

// Per-model calibrations live in models/manifest.json (`runtime.calibration`).

const EPS = 1e-7;
const logit = (p: number): number => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

const isIdentity = (c: ScoreCalibration): boolean => c.scale === 1 && c.shift === 0;

export function calibrate(c: ScoreCalibration, raw: number): number {
  // Exact for the identity, so SSD scores are reported exactly as MediaPipe's decoder would.
  if (isIdentity(c)) return raw;
  return sigmoid(c.scale * logit(raw) + c.shift);
}

/** The raw score whose calibrated value is `calibrated` (inverse of calibrate). */
export function rawThreshold(c: ScoreCalibration, calibrated: number): number {
  if (!(c.scale > 0)) throw new RangeError('calibration scale must be > 0 to stay monotone');
  if (isIdentity(c)) return calibrated;
  return sigmoid((logit(calibrated) - c.shift) / c.scale);
}

/** Two models' raw scores for the same object (same MID, overlapping boxes). */
export interface ScorePair {
  reference: number;
  other: number;
}

/**
 * The shift that aligns `other` with `reference` in logit space: the median of
 * logit(reference) - logit(other) (median, not mean, because a pair where one model is
 * simply wrong is common and should not drag the level). Used by
 * test/vision/fit-calibration.ts to produce the manifest's `runtime.calibration` values.
 */
export function fitLogitShift(pairs: readonly ScorePair[]): ScoreCalibration {
  if (pairs.length === 0) throw new RangeError('no score pairs to fit');
  const gaps = pairs.map((p) => logit(p.reference) - logit(p.other)).sort((a, b) => a - b);
  const mid = gaps.length >> 1;
  const shift = gaps.length % 2 ? gaps[mid] : (gaps[mid - 1] + gaps[mid]) / 2;
  return { scale: 1, shift };
}
