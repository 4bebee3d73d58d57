/**
 * What happens on each side of a model run, without sharp: 8-bit pixels (already resized to
 * the model's input) -> the float tensor the model wants, and the model's outputs -> raw
 * detections. The inference workers (inference-worker.ts) run both next to the model, so
 * only small images go in and only detections come out (CenterNet's heatmap alone is 5 MB);
 * the main-thread path (model-detectors.ts) uses the same functions, so both give the same
 * bits.
 */
import { internal, invalidArgument } from '../core/errors';
import { RawDetection } from './box';
import { CenterNetDecoder } from './centernet-decoder';
import { Tensor } from './inference';
import { centerNetDecoding, ModelEntry, ssdDecoding } from './model-manifest';
import { SsdDecoder } from './ssd-decoder';

export interface InputSpec {
  name: string;
  /** The manifest's input size; for a model with free dims, the longer side's size. */
  width: number;
  height: number;
  /** float32 value of each 8-bit channel value, as a 256-entry lookup table. */
  lut: Float32Array;
  /** Set for a model whose height and width are free (any multiples of this): each image
   *  then gets its own input size, keeping its aspect ratio (inputSize). */
  multiple?: number;
}

/** A model input's height and width in pixels. */
export interface InputSize {
  width: number;
  height: number;
}

/** The scaling formulas the manifest uses, keyed by how its `scaling` text starts. */
const SCALINGS: readonly [string, (v: number) => number][] = [
  ['float32 x / 127.5 - 1', (v) => v / 127.5 - 1],
  ['float32 x / 255', (v) => v / 255],
  ['none: float32 pixel values 0..255', (v) => v],
];

/** Input name, size and scaling of a model; fails for layouts or scalings not handled. */
export function inputSpec(entry: ModelEntry): InputSpec {
  const [n, h, w, c] = entry.input.shape;
  if (entry.input.shape.length !== 4 || n !== 1 || c !== 3) {
    throw invalidArgument(`model ${entry.name}: input shape ${entry.input.shape.join(',')} is not [1,H,W,3]`);
  }
  const hit = SCALINGS.find(([prefix]) => entry.preprocessing.scaling.startsWith(prefix));
  if (!hit) throw invalidArgument(`model ${entry.name}: unknown input scaling '${entry.preprocessing.scaling}'`);
  const lut = new Float32Array(256);
  // The same double-precision expression the parity recorder used, then rounded once.
  for (let v = 0; v < 256; v++) lut[v] = hit[1](v);
  const multiple = entry.preprocessing.keep_aspect?.multiple ?? entry.preprocessing.free_hw?.multiple;
  if (multiple && (w % multiple || h % multiple)) {
    throw invalidArgument(`model ${entry.name}: input ${w}x${h} is not a multiple of keep_aspect.multiple ${multiple}`);
  }
  return { name: entry.input.name, width: w, height: h, lut, ...(multiple ? { multiple } : {}) };
}

/**
 * The input size for an image of `width` x `height`: the manifest's size, or, for a model
 * with free dims, the image's aspect ratio with the longer side at the manifest's longer
 * side and each side rounded to the nearest multiple (at least one). A 640x424 photo gets
 * 512x352 instead of being stretched to 512x512: objects keep their shape, and the run
 * costs a third less.
 */
export function inputSize(spec: InputSpec, width: number, height: number): InputSize {
  const m = spec.multiple;
  if (!m) return { width: spec.width, height: spec.height };
  const scale = Math.max(spec.width, spec.height) / Math.max(width, height);
  const side = (v: number) => Math.max(m, Math.round((v * scale) / m) * m);
  return { width: side(width), height: side(height) };
}

/** The [1,H,W,3] tensor of `pixels` (RGB, already resized to `size`, by default the
 *  manifest's). */
export function pixelsToTensor(pixels: Uint8Array, spec: InputSpec, size: InputSize = spec): Tensor {
  if (pixels.length !== size.width * size.height * 3) {
    throw invalidArgument(`${pixels.length} bytes are not a ${size.width}x${size.height} RGB input for ${spec.name}`);
  }
  if (!spec.multiple && (size.width !== spec.width || size.height !== spec.height)) {
    throw invalidArgument(`${spec.name} takes only ${spec.width}x${spec.height} inputs, not ${size.width}x${size.height}`);
  }
  const data = new Float32Array(pixels.length);
  const lut = spec.lut;
  for (let i = 0; i < data.length; i++) data[i] = lut[pixels[i]];
  return { data, dims: [1, size.height, size.width, 3] };
}

/** Model outputs (for an input of `size`) -> detections with raw score >= minScore, best
 *  first, boxes normalized to the input. */
export type OutputDecoder = (out: Record<string, Tensor>, minScore: number, size: InputSize) => RawDetection[];

function output(out: Record<string, Tensor>, name: string, model: string): Float32Array {
  return outputTensor(out, name, model).data;
}

function outputTensor(out: Record<string, Tensor>, name: string, model: string): Tensor {
  const t = out[name];
  if (!t) throw internal(`${model} returned no ${name} output`);
  return t;
}

function outputShape(entry: ModelEntry, name: string): number[] {
  const o = entry.outputs.find((x) => x.name === name);
  if (!o) throw internal(`models manifest: ${entry.name} has no output ${name}`);
  return o.shape;
}

/** The decoder of a detector entry of the manifest (after checking it against the labels);
 *  undefined for the embedder. */
export function outputDecoder(entry: ModelEntry): OutputDecoder | undefined {
  const labels = entry.labels?.length ?? 0;
  switch (entry.runtime.decoder) {
    case 'ssd': {
      const decoder = new SsdDecoder(ssdDecoding(entry), labels);
      const [, anchors, classes] = outputShape(entry, 'raw_scores');
      if (anchors !== decoder.numAnchors || classes !== labels) {
        throw internal(
          `models manifest: ${entry.name} raw_scores ${anchors}x${classes} vs ${decoder.numAnchors} anchors, ${labels} labels`,
        );
      }
      return (out, min) => decoder.decode(output(out, 'raw_boxes', entry.name), output(out, 'raw_scores', entry.name), min);
    }
    case 'centernet': {
      const [, , , numClasses] = outputShape(entry, 'heatmap');
      if (numClasses !== labels) throw internal(`models manifest: ${entry.name} heatmap has ${numClasses} classes, ${labels} labels`);
      const topK = centerNetDecoding(entry).top_k;
      return (out, min, size) => {
        // The grid is the run's own (input / stride), read from the output's dims.
        const heat = outputTensor(out, 'heatmap', entry.name);
        const [, gridH, gridW] = heat.dims;
        const decoder = new CenterNetDecoder({ gridH, gridW, numClasses, inputH: size.height, inputW: size.width, topK });
        return decoder.decode(heat.data, output(out, 'wh', entry.name), min);
      };
    }
    default:
      return undefined;
  }
}
