/**
 * Object localization over both detectors: the OIDv4 SSD (23 Open Images classes) and
 * CenterNet (80 COCO classes) run on the same image, their classes are mapped to Open
 * Images MIDs and names, their scores calibrated onto one scale (calibration.ts), and
 * class-aware NMS across both removes the duplicates (same MID, IoU > iouThreshold; the
 * higher calibrated score wins whichever model it came from).
 */
import { invalidArgument } from '../core/errors';
import { Box, clampBox, iou } from './box';
import { calibrate, IDENTITY_CALIBRATION, rawThreshold, ScoreCalibration } from './calibration';
import { DetectorModel } from './model-detectors';
import { nms } from './nms';
import { RgbImage } from './preprocess';

export interface DetectedObject {
  /** Open Images / Knowledge Graph MID, e.g. '/m/0bt9lr'. */
  mid: string;
  /** Open Images display name, e.g. 'Dog'. */
  name: string;
  /** Calibrated score in (0,1). */
  score: number;
  /** Normalized to the image, clamped to [0,1]. */
  box: Box;
  /** Manifest name of the model that produced it (for logs and debugging). */
  model: string;
}

export interface DetectOptions {
  /** At most this many objects (default: the detector's defaultMaxResults). */
  maxResults?: number;
  /** Calibrated score threshold (default: the detector's defaultMinScore). */
  minScore?: number;
  /** The second look on the mirrored image, overriding the detector's own setting. */
  mirror?: MirrorMode;
}

export interface ObjectDetectorOptions {
  iouThreshold?: number;
  /**
   * A second pass of every model on the mirrored image, whose detections join the first
   * pass's (then NMS). Both small detectors miss objects in poses they rarely saw in one
   * orientation (the white horse of darknet's person.jpg: Horse 0.39 as is, 0.67
   * mirrored). 'always' pays one more inference per model per image; 'unsure' (default)
   * only for the models whose first pass found a candidate between UNSURE_FLOOR and the
   * threshold that no reported object of its class covers, where a second look can change
   * the answer (8 of 12 development photos: 7 CenterNet and 4 SSD re-runs); 'never' skips
   * it.
   */
  mirror?: MirrorMode;
  defaultMinScore?: number;
  defaultMaxResults?: number;
}

export type MirrorMode = 'always' | 'unsure' | 'never';

/** Calibrated scores from here up to the threshold count as "unsure" candidates. */
export const UNSURE_FLOOR = 0.3;

export interface CalibratedModel {
  model: DetectorModel;
  calibration?: ScoreCalibration;
}

export class ObjectDetector {
  private readonly iouThreshold: number;
  private readonly mirror: MirrorMode;
  private readonly defaultMinScore: number;
  private readonly defaultMaxResults: number;

  constructor(
    private readonly models: readonly CalibratedModel[],
    opts: ObjectDetectorOptions = {},
  ) {
    if (models.length === 0) throw invalidArgument('ObjectDetector needs at least one model');
    this.iouThreshold = opts.iouThreshold ?? 0.5;
    this.mirror = opts.mirror ?? 'unsure';
    this.defaultMinScore = opts.defaultMinScore ?? 0.5;
    this.defaultMaxResults = opts.defaultMaxResults ?? 10;
  }

  /** The look detect() takes when not told (DetectOptions.mirror). */
  get defaultMirror(): MirrorMode {
    return this.mirror;
  }

  async detect(img: RgbImage, opts: DetectOptions = {}): Promise<DetectedObject[]> {
    const maxResults = opts.maxResults ?? this.defaultMaxResults;
    const minScore = opts.minScore ?? this.defaultMinScore;
    if (!Number.isInteger(maxResults) || maxResults < 0)
      throw invalidArgument(`maxResults must be a non-negative integer, got ${maxResults}`);
    if (!(minScore > 0 && minScore < 1)) throw invalidArgument(`minScore must be in (0,1), got ${minScore}`);
    if (maxResults === 0) return [];
    // The models run concurrently; each is bounded by its own InferenceQueue. The mirror
    // pass flips each model's resized input (the model keeps it from the first pass), so it
    // costs one inference and no second resize. (Resizing the flipped image instead would
    // differ by a fraction of a pixel in where an enlarging resize samples; either is a
    // mirrored view, and this one is the same for the same image every time.)
    const mirror = opts.mirror ?? this.mirror;
    const floor = mirror === 'unsure' ? Math.min(minScore, UNSURE_FLOOR) : minScore;
    const mirrored = (m: CalibratedModel) => this.runOne(m, img, minScore, true).then((found) => found.map(unmirror));
    if (mirror === 'always') {
      const all = await Promise.all([...this.models.map((m) => this.runOne(m, img, minScore)), ...this.models.map(mirrored)]);
      return nms(all.flat(), this.iouThreshold, maxResults, (d) => d.mid);
    }
    const plain = await Promise.all(this.models.map((m) => this.runOne(m, img, floor)));
    let found = plain.flat();
    if (mirror === 'unsure') {
      // A candidate is unsure when it is under the threshold and no reported object of its
      // class covers it (NMS would fold it into that object whatever its second score).
      // Only the models with one look again: a model with none has as little to gain from
      // a second look as an image with none, and each look is a full inference.
      const sure = found.filter((d) => d.score >= minScore);
      const unsure = (d: DetectedObject) =>
        d.score < minScore && !sure.some((s) => s.mid === d.mid && iou(s.box, d.box) > this.iouThreshold);
      const again = this.models.filter((_, i) => plain[i].some(unsure));
      if (again.length) found = found.concat((await Promise.all(again.map(mirrored))).flat());
    }
    return nms(
      found.filter((d) => d.score >= minScore),
      this.iouThreshold,
      maxResults,
      (d) => d.mid,
    );
  }

  private async runOne(m: CalibratedModel, img: RgbImage, minScore: number, mirrored = false): Promise<DetectedObject[]> {
    const cal = m.calibration ?? IDENTITY_CALIBRATION;
    const raw = await m.model.detect(img, rawThreshold(cal, minScore), mirrored);
    const out: DetectedObject[] = [];
    for (const d of raw) {
      const cls = m.model.labels.lookup(d.classIndex);
      const score = calibrate(cal, d.score);
      // Re-check after the round trip through logit/sigmoid, which can differ by an ulp.
      if (!cls || score < minScore) continue;
      out.push({ mid: cls.mid, name: cls.name, score, box: clampBox(d.box), model: m.model.name });
    }
    return out;
  }
}

/** A detection on the mirrored image, mapped back onto the original. */
function unmirror(d: DetectedObject): DetectedObject {
  return { ...d, box: { x0: 1 - d.box.x1, y0: d.box.y0, x1: 1 - d.box.x0, y1: d.box.y1 } };
}
