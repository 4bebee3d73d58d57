/**
 * The two detector models behind one small interface: whole image in, raw detections
 * (model class indices, raw scores, normalized boxes) out. Each owns its session (usually
 * an InferenceQueue around a worker-pool session or an OnnxSession) and its decoder;
 * neither knows about the other or about the shared vocabulary (object-detector.ts does the
 * merging). The image is resized here (sharp, off the JS thread) to the model's input
 * size (a model with free dims gets the image's aspect ratio, model-io.ts inputSize);
 * scaling into the input tensor and decoding happen next to the model when the session
 * offers `detectPixels` (the worker pool), else here, with the same functions (model-io.ts).
 */
import { RawDetection } from './box';
import { InferenceSession } from './inference';
import { LabelMap } from './labels';
import { ModelEntry } from './model-manifest';
import { InputSize, InputSpec, inputSize, inputSpec, OutputDecoder, outputDecoder, pixelsToTensor } from './model-io';
import { mirrorImage, resizeRgb, RgbImage } from './preprocess';

export interface DetectorModel {
  readonly name: string;
  readonly labels: LabelMap;
  /**
   * Detections with raw score >= minRawScore (in (0,1)), best first. `mirrored`: run on the
   * model input flipped left to right (boxes are then those of the flipped image).
   */
  detect(img: RgbImage, minRawScore: number, mirrored?: boolean): Promise<RawDetection[]>;
}

/** A detector of the manifest whose outputs `outputDecoder` knows how to read. */
export class ManifestDetector implements DetectorModel {
  readonly name: string;
  readonly labels: LabelMap;
  private readonly input: InputSpec;
  private readonly decode: OutputDecoder;
  /** The resized input of each image still in use, so a second (mirrored) look at an image
   *  flips it instead of resizing again. */
  private readonly resized = new WeakMap<RgbImage, Promise<{ size: InputSize; pixels: Uint8Array }>>();

  constructor(
    private readonly session: InferenceSession,
    entry: ModelEntry,
  ) {
    this.name = entry.name;
    this.labels = LabelMap.fromManifest(entry);
    this.input = inputSpec(entry);
    const decode = outputDecoder(entry);
    if (!decode) throw new TypeError(`model ${entry.name} is not a detector`);
    this.decode = decode;
  }

  async detect(img: RgbImage, minRawScore: number, mirrored = false): Promise<RawDetection[]> {
    const input = await this.modelInput(img);
    const { size } = input;
    const pixels = mirrored ? mirrorImage({ data: input.pixels, ...size }).data : input.pixels;
    if (this.session.detectPixels) return this.session.detectPixels(pixels, minRawScore, size);
    return this.decode(await this.session.run({ [this.input.name]: pixelsToTensor(pixels, this.input, size) }), minRawScore, size);
  }

  private modelInput(img: RgbImage): Promise<{ size: InputSize; pixels: Uint8Array }> {
    let input = this.resized.get(img);
    if (!input) {
      const size = inputSize(this.input, img.width, img.height);
      input = resizeRgb(img, size.width, size.height).then((r) => ({ size, pixels: r.data }));
      this.resized.set(img, input);
    }
    return input;
  }
}
