/**
 * One image's detection, shared by the features of one annotate request (#15: detection
 * computed once per image whatever the features ask). Every feature states what it needs
 * before any of them runs (need); the first get() runs the detectors once with the widest
 * of the needs (the most objects asked, and the second look if any feature wants it) and
 * each feature takes its top objects. Greedy NMS keeps a prefix as maxResults grows, so a
 * feature's share is what a run of its own would have found with the same look.
 */
import type { DetectedObject, MirrorMode, ObjectDetector } from './object-detector';
import type { RgbImage } from './preprocess';

export interface DetectionNeed {
  maxResults: number;
  /** The look this feature would take alone (default: the detector's own setting). */
  mirror?: MirrorMode;
}

const LOOKS: MirrorMode[] = ['never', 'unsure', 'always'];

export class ImageDetection {
  private maxResults = 0;
  private mirror: MirrorMode | undefined;
  private run: Promise<DetectedObject[]> | undefined;

  constructor(
    private readonly detector: ObjectDetector,
    private readonly img: RgbImage,
  ) {}

  need(n: DetectionNeed): void {
    if (this.run) throw new Error('ImageDetection: a need stated after detection ran');
    this.maxResults = Math.max(this.maxResults, n.maxResults);
    const look = n.mirror ?? this.detector.defaultMirror;
    if (!this.mirror || LOOKS.indexOf(look) > LOOKS.indexOf(this.mirror)) this.mirror = look;
  }

  /** The best `maxResults` objects of the one detection run. */
  async get(maxResults: number): Promise<DetectedObject[]> {
    this.run ??= this.detector.detect(this.img, { maxResults: this.maxResults, mirror: this.mirror });
    return (await this.run).slice(0, maxResults);
  }
}
