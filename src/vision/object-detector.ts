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
  /**
   * A second pass of every model on the mirrored image, whose detections join the first
   * pass's (then NMS). Both small detectors miss objects in poses they rarely saw in one
   * orientation (the white horse of darknet's person.jpg: Horse 0.35 as is, 0.56
   * mirrored). 'always' pays one more inference per model per image; 'unsure' (default)
   * only for images whose first pass found a candidate between UNSURE_FLOOR and the
   * threshold, where a second look can change the answer (7 of 12 development photos);
   * 'never' skips it.
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

  constructor(private readonly models: readonly CalibratedModel[], opts: ObjectDetectorOptions = {}) {
    if (models.length === 0) throw invalidArgument('ObjectDetector needs at least one model');
    this.iouThreshold = opts.iouThreshold ?? 0.5;
    this.mirror = opts.mirror ?? 'unsure';
    this.defaultMinScore = opts.defaultMinScore ?? 0.5;
    this.defaultMaxResults = opts.defaultMaxResults ?? 10;
  }

  async detect(img: RgbImage, opts: DetectOptions = {}): Promise<DetectedObject[]> {
    const maxResults = opts.maxResults ?? this.defaultMaxResults;
    const minScore = opts.minScore ?? this.defaultMinScore;
    if (!Number.isInteger(maxResults) || maxResults < 0) throw invalidArgument(`maxResults must be a non-negative integer, got ${maxResults}`);
    if (!(minScore > 0 && minScore < 1)) throw invalidArgument(`minScore must be in (0,1), got ${minScore}`);
    if (maxResults === 0) return [];
    // The models run concurrently; each is bounded by its own InferenceQueue. The mirror
    // pass flips the decoded image, not the model input: flipping the small resized
    // tensor moves the bilinear sampling grid by a fraction of a pixel, and that alone
    // moved the white horse of person.jpg from 0.56 to 0.48.
    const floor = this.mirror === 'unsure' ? Math.min(minScore, UNSURE_FLOOR) : minScore;
    const mirrored = () => {
      const flipped = mirrorImage(img);
      return this.models.map(async (m) => (await this.runOne(m, flipped, floor)).map(unmirror));
    };
    const plain = this.models.map((m) => this.runOne(m, img, floor));
    // 'always' runs both passes at once; 'unsure' looks at the first pass before paying.
    let found = (await Promise.all(this.mirror === 'always' ? [...plain, ...mirrored()] : plain)).flat();
    if (this.mirror === 'unsure' && found.some((d) => d.score < minScore)) found = found.concat((await Promise.all(mirrored())).flat());
    return nms(found.filter((d) => d.score >= minScore), this.iouThreshold, maxResults, (d) => d.mid);
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

/** The image flipped left to right (RGB, 3 bytes per pixel). */
export function mirrorImage(img: RgbImage): RgbImage {
  const { width, height, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      const src = row + x * 3;
      const dst = row + (width - 1 - x) * 3;
      out[dst] = data[src];
      out[dst + 1] = data[src + 1];
      out[dst + 2] = data[src + 2];
    }
  }
  return { width, height, data: out };
}

/** A detection on the mirrored image, mapped back onto the original. */
function unmirror(d: DetectedObject): DetectedObject {
  return { ...d, box: { x0: 1 - d.box.x1, y0: d.box.y0, x1: 1 - d.box.x0, y1: d.box.y1 } };
}
