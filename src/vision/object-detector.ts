/**
 * Object localization over both detectors: the OIDv4 SSD (23 Open Images classes) and
 * CenterNet (80 COCO classes) run on the same image, their classes are mapped to Open
 * Images MIDs and names, their scores calibrated onto one scale (calibration.ts), and
 * class-aware NMS across both removes the duplicates (same MID, IoU > iouThreshold; the
 * higher calibrated score wins whichever model it came from).
 */
import { invalidArgument } from '../core/errors';
import { Box, clampBox } from './box';
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
}

export interface ObjectDetectorOptions {
  iouThreshold?: number;
  defaultMinScore?: number;
  defaultMaxResults?: number;
}

export interface CalibratedModel {
  model: DetectorModel;
  calibration?: ScoreCalibration;
}

export class ObjectDetector {
  private readonly iouThreshold: number;
  private readonly defaultMinScore: number;
  private readonly defaultMaxResults: number;

  constructor(private readonly models: readonly CalibratedModel[], opts: ObjectDetectorOptions = {}) {
    if (models.length === 0) throw invalidArgument('ObjectDetector needs at least one model');
    this.iouThreshold = opts.iouThreshold ?? 0.5;
    this.defaultMinScore = opts.defaultMinScore ?? 0.5;
    this.defaultMaxResults = opts.defaultMaxResults ?? 10;
  }

  async detect(img: RgbImage, opts: DetectOptions = {}): Promise<DetectedObject[]> {
    const maxResults = opts.maxResults ?? this.defaultMaxResults;
    const minScore = opts.minScore ?? this.defaultMinScore;
    if (!Number.isInteger(maxResults) || maxResults < 0) throw invalidArgument(`maxResults must be a non-negative integer, got ${maxResults}`);
    if (!(minScore > 0 && minScore < 1)) throw invalidArgument(`minScore must be in (0,1), got ${minScore}`);
    if (maxResults === 0) return [];
    // The models run concurrently; each is serialised by its own InferenceQueue.
    const perModel = await Promise.all(this.models.map((m) => this.runOne(m, img, minScore)));
    return nms(perModel.flat(), this.iouThreshold, maxResults, (d) => d.mid);
  }

  private async runOne(m: CalibratedModel, img: RgbImage, minScore: number): Promise<DetectedObject[]> {
    const cal = m.calibration ?? IDENTITY_CALIBRATION;
    const raw = await m.model.detect(img, rawThreshold(cal, minScore));
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
