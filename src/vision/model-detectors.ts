/**
 * The two detector models behind one small interface: whole image in, raw detections
 * (model class indices, raw scores, normalized boxes) out. Each owns its session (usually
 * an InferenceQueue around an OnnxSession) and its decoder; neither knows about the other
 * or about the shared vocabulary (object-detector.ts does the merging).
 */
import { internal } from '../core/errors';
import { RawDetection } from './box';
import { CenterNetDecoder } from './centernet-decoder';
import { InferenceSession, Tensor } from './inference';
import { LabelMap } from './labels';
import { centerNetDecoding, ModelEntry, ssdDecoding } from './model-manifest';
import { InputSpec, inputSpec, RgbImage, toInputTensor } from './preprocess';
import { SsdDecoder } from './ssd-decoder';

export interface DetectorModel {
  readonly name: string;
  readonly labels: LabelMap;
  /** Detections with raw score >= minRawScore (in (0,1)), best first. */
  detect(img: RgbImage, minRawScore: number): Promise<RawDetection[]>;
}

function output(out: Record<string, Tensor>, name: string, model: string): Float32Array {
  const t = out[name];
  if (!t) throw internal(`${model} returned no ${name} output`);
  return t.data;
}

function outputShape(entry: ModelEntry, name: string): number[] {
  const o = entry.outputs.find((x) => x.name === name);
  if (!o) throw internal(`models manifest: ${entry.name} has no output ${name}`);
  return o.shape;
}

export class SsdDetector implements DetectorModel {
  readonly name: string;
  readonly labels: LabelMap;
  private readonly input: InputSpec;
  private readonly decoder: SsdDecoder;

  constructor(private readonly session: InferenceSession, entry: ModelEntry) {
    this.name = entry.name;
    this.labels = LabelMap.fromManifest(entry);
    this.input = inputSpec(entry);
    this.decoder = new SsdDecoder(ssdDecoding(entry), this.labels.size);
    const [, anchors, classes] = outputShape(entry, 'raw_scores');
    if (anchors !== this.decoder.numAnchors || classes !== this.labels.size) {
      throw internal(`models manifest: ${entry.name} raw_scores ${anchors}x${classes} vs ${this.decoder.numAnchors} anchors, ${this.labels.size} labels`);
    }
  }

  async detect(img: RgbImage, minRawScore: number): Promise<RawDetection[]> {
    const out = await this.session.run({ [this.input.name]: await toInputTensor(img, this.input) });
    return this.decoder.decode(output(out, 'raw_boxes', this.name), output(out, 'raw_scores', this.name), minRawScore);
  }
}

export class CenterNetDetector implements DetectorModel {
  readonly name: string;
  readonly labels: LabelMap;
  private readonly input: InputSpec;
  private readonly decoder: CenterNetDecoder;

  constructor(private readonly session: InferenceSession, entry: ModelEntry) {
    this.name = entry.name;
    this.labels = LabelMap.fromManifest(entry);
    this.input = inputSpec(entry);
    const [, gridH, gridW, numClasses] = outputShape(entry, 'heatmap');
    if (numClasses !== this.labels.size) throw internal(`models manifest: ${entry.name} heatmap has ${numClasses} classes, ${this.labels.size} labels`);
    this.decoder = new CenterNetDecoder({
      gridH, gridW, numClasses, inputH: this.input.height, inputW: this.input.width, topK: centerNetDecoding(entry).top_k,
    });
  }

  async detect(img: RgbImage, minRawScore: number): Promise<RawDetection[]> {
    const out = await this.session.run({ [this.input.name]: await toInputTensor(img, this.input) });
    return this.decoder.decode(output(out, 'heatmap', this.name), output(out, 'wh', this.name), minRawScore);
  }
}
