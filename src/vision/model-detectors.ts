/**
 * The two detector models behind one small interface: whole image in, raw detections
 * (model class indices, raw scores, normalized boxes) out. Each owns its session (usually
 * an InferenceQueue around a worker-pool session or an OnnxSession) and its decoder;
 * neither knows about the other or about the shared vocabulary (object-detector.ts does the
 * merging). The image is resized here (sharp, off the JS thread); scaling into the input
 * tensor and decoding happen next to the model when the session offers `detectPixels`
 * (the worker pool), else here, with the same functions (model-io.ts).
 */
import { RawDetection } from './box';
import { InferenceSession } from './inference';
import { LabelMap } from './labels';
import { ModelEntry } from './model-manifest';
import { InputSpec, inputSpec, OutputDecoder, outputDecoder, pixelsToTensor } from './model-io';
import { resizeRgb, RgbImage } from './preprocess';

export interface DetectorModel {
  readonly name: string;
  readonly labels: LabelMap;
  /** Detections with raw score >= minRawScore (in (0,1)), best first. */
  detect(img: RgbImage, minRawScore: number): Promise<RawDetection[]>;
}

/** A detector of the manifest whose outputs `outputDecoder` knows how to read. */
export class ManifestDetector implements DetectorModel {
  readonly name: string;
  readonly labels: LabelMap;
  private readonly input: InputSpec;
  private readonly decode: OutputDecoder;

  constructor(private readonly session: InferenceSession, entry: ModelEntry) {
    this.name = entry.name;
    this.labels = LabelMap.fromManifest(entry);
    this.input = inputSpec(entry);
    const decode = outputDecoder(entry);
    if (!decode) throw new TypeError(`model ${entry.name} is not a detector`);
    this.decode = decode;
  }

  async detect(img: RgbImage, minRawScore: number): Promise<RawDetection[]> {
    const pixels = (await resizeRgb(img, this.input.width, this.input.height)).data;
    if (this.session.detectPixels) return this.session.detectPixels(pixels, minRawScore);
    return this.decode(await this.session.run({ [this.input.name]: pixelsToTensor(pixels, this.input) }), minRawScore);
  }
}

