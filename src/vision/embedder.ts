/**
 * Image embeddings with MobileNetV2-1.4 (1792-d). Catalog (reference) images and query
 * images go through this same path: optional crop to a normalized box, stretch to
 * 224x224, x/255, model, L2 normalisation. So cosine similarity is a plain dot product.
 * The same run also gives the feature map the embedding is the mean of (7×7 cells of
 * 1792): the mean over a block of cells describes that part of the image for free
 * (regions/region-proposals.ts IntegralMap), which is how a query's windows are scored
 * without more inference.
 */
import { l2Normalize } from '../core/vectors';
import { internal } from '../core/errors';
import { Box } from './box';
import { InferenceSession } from './inference';
import { ModelEntry } from './model-manifest';
import { pixelsToTensor } from './model-io';
import { cropRgb, InputSpec, inputSpec, resizeRgb, RgbImage, toInputTensor } from './preprocess';

/** A model's spatial feature map, NHWC without the batch: `h * w` cells of `c` values. */
export interface FeatureMap {
  h: number;
  w: number;
  c: number;
  data: Float32Array;
}

export class Embedder {
  private readonly input: InputSpec;
  private readonly outputName: string;
  private readonly featuresName?: string;
  readonly dimensions: number;
  /** The model file's sha256: embeddings (and codes) of different models do not compare. */
  readonly modelSha256: string;

  constructor(
    private readonly session: InferenceSession,
    entry: ModelEntry,
  ) {
    this.input = inputSpec(entry);
    this.modelSha256 = entry.sha256;
    const out = entry.outputs[0];
    this.outputName = out.name;
    this.dimensions = out.shape[out.shape.length - 1];
    this.featuresName = entry.outputs.find((o) => o.name === 'features')?.name;
  }

  /** The image stretched to the model's input size: embedding it (or it turned a quarter,
   *  which stays that size) skips the resize. */
  toInputSize(img: RgbImage): Promise<RgbImage> {
    return resizeRgb(img, this.input.width, this.input.height);
  }

  /** Whether the model gives a feature map (featureMap). */
  get hasFeatureMap(): boolean {
    return this.featuresName !== undefined;
  }

  /**
   * The feature map of the whole image stretched to side x side (a multiple of 32): at 448
   * a 14×14 grid, where a product filling a third of the photo spans about the 224 pixels
   * the network was trained at.
   */
  async featureMap(img: RgbImage, side: number): Promise<FeatureMap> {
    if (!this.featuresName) throw internal('the embedding model has no feature map output');
    const size = { width: side, height: side };
    const pixels = (await resizeRgb(img, side, side)).data;
    const out = this.session.runPixels
      ? await this.session.runPixels(pixels, size, [this.featuresName])
      : await this.session.run({ [this.input.name]: pixelsToTensor(pixels, this.input, size) });
    const f = out[this.featuresName];
    if (!f || f.dims.length !== 4 || f.dims[3] !== this.dimensions)
      throw internal(`embedder feature map has shape ${f?.dims.join('x') ?? 'none'}`);
    return { h: f.dims[1], w: f.dims[2], c: f.dims[3], data: f.data };
  }

  /** Unit-length embedding of `img`, or of the part inside `box` when given. */
  async embed(img: RgbImage, box?: Box): Promise<Float32Array> {
    const region = box ? cropRgb(img, box) : img;
    // Through a worker pool only the 224x224 8-bit pixels travel; the input tensor is made
    // there with the same function (model-io.ts), so the embedding is the same bits.
    const out = this.session.runPixels
      ? await this.session.runPixels((await resizeRgb(region, this.input.width, this.input.height)).data, undefined, [this.outputName])
      : await this.session.run({ [this.input.name]: await toInputTensor(region, this.input) });
    const t = out[this.outputName];
    if (!t || t.data.length !== this.dimensions)
      throw internal(`embedder returned ${t?.data.length ?? 'no'} values, expected ${this.dimensions}`);
    return l2Normalize(t.data);
  }
}
