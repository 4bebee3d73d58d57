/**
 * Image embeddings with MobileNetV2-1.4 (1792-d). Catalog (reference) images and query
 * images go through this same path: optional crop to a normalized box, stretch to
 * 224x224, x/255, model, L2 normalisation. So cosine similarity is a plain dot product.
 */
import { internal } from '../core/errors';
import { Box } from './box';
import { InferenceSession } from './inference';
import { ModelEntry } from './model-manifest';
import { cropRgb, InputSpec, inputSpec, resizeRgb, RgbImage, toInputTensor } from './preprocess';

export class Embedder {
  private readonly input: InputSpec;
  private readonly outputName: string;
  readonly dimensions: number;
  /** The model file's sha256: embeddings (and codes) of different models do not compare. */
  readonly modelSha256: string;

  constructor(private readonly session: InferenceSession, entry: ModelEntry) {
    this.input = inputSpec(entry);
    this.modelSha256 = entry.sha256;
    const out = entry.outputs[0];
    this.outputName = out.name;
    this.dimensions = out.shape[out.shape.length - 1];
  }

  /** Unit-length embedding of `img`, or of the part inside `box` when given. */
  async embed(img: RgbImage, box?: Box): Promise<Float32Array> {
    const region = box ? cropRgb(img, box) : img;
    // Through a worker pool only the 224x224 8-bit pixels travel; the input tensor is made
    // there with the same function (model-io.ts), so the embedding is the same bits.
    const out = this.session.runPixels
      ? await this.session.runPixels((await resizeRgb(region, this.input.width, this.input.height)).data)
      : await this.session.run({ [this.input.name]: await toInputTensor(region, this.input) });
    const t = out[this.outputName];
    if (!t || t.data.length !== this.dimensions) throw internal(`embedder returned ${t?.data.length ?? 'no'} values, expected ${this.dimensions}`);
    return l2Normalize(t.data);
  }
}

/** A copy scaled to unit L2 norm. An all-zero vector stays zero (its cosine with anything
 *  is then 0, which is the least surprising answer for a featureless crop). */
export function l2Normalize(v: Float32Array): Float32Array {
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += v[i] * v[i];
  const out = new Float32Array(v.length);
  if (ss === 0) return out;
  const inv = 1 / Math.sqrt(ss);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * inv;
  return out;
}

/** Dot product; equals cosine similarity for vectors from Embedder.embed. */
export function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`embedding sizes differ: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
