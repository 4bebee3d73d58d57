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
  width: number;
  height: number;
  /** float32 value of each 8-bit channel value, as a 256-entry lookup table. */
  lut: Float32Array;
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
    throw invalidArgument(`model ${entry.name}: input shape ${entry.input.shape} is not [1,H,W,3]`);
  }
  const hit = SCALINGS.find(([prefix]) => entry.preprocessing.scaling.startsWith(prefix));
  if (!hit) throw invalidArgument(`model ${entry.name}: unknown input scaling '${entry.preprocessing.scaling}'`);
  const lut = new Float32Array(256);
  // The same double-precision expression the parity recorder used, then rounded once.
  for (let v = 0; v < 256; v++) lut[v] = hit[1](v);
  return { name: entry.input.name, width: w, height: h, lut };
}

/** The [1,H,W,3] tensor of `pixels` (RGB, already spec.width x spec.height). */
export function pixelsToTensor(pixels: Uint8Array, spec: InputSpec): Tensor {
  if (pixels.length !== spec.width * spec.height * 3) {
    throw invalidArgument(`${pixels.length} bytes are not a ${spec.width}x${spec.height} RGB input for ${spec.name}`);
  }
  const data = new Float32Array(pixels.length);
  const lut = spec.lut;
  for (let i = 0; i < data.length; i++) data[i] = lut[pixels[i]];
  return { data, dims: [1, spec.height, spec.width, 3] };
}

/** Model outputs -> detections with raw score >= minScore, best first. */
export type OutputDecoder = (out: Record<string, Tensor>, minScore: number) => RawDetection[];

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

/** The decoder of a detector entry of the manifest (after checking it against the labels);
 *  undefined for the embedder. */
export function outputDecoder(entry: ModelEntry): OutputDecoder | undefined {
  const labels = entry.labels?.length ?? 0;
  switch (entry.runtime.decoder) {
    case 'ssd': {
      const decoder = new SsdDecoder(ssdDecoding(entry), labels);
      const [, anchors, classes] = outputShape(entry, 'raw_scores');
      if (anchors !== decoder.numAnchors || classes !== labels) {
        throw internal(`models manifest: ${entry.name} raw_scores ${anchors}x${classes} vs ${decoder.numAnchors} anchors, ${labels} labels`);
      }
      return (out, min) => decoder.decode(output(out, 'raw_boxes', entry.name), output(out, 'raw_scores', entry.name), min);
    }
    case 'centernet': {
      const input = inputSpec(entry);
      const [, gridH, gridW, numClasses] = outputShape(entry, 'heatmap');
      if (numClasses !== labels) throw internal(`models manifest: ${entry.name} heatmap has ${numClasses} classes, ${labels} labels`);
      const decoder = new CenterNetDecoder({
        gridH, gridW, numClasses, inputH: input.height, inputW: input.width, topK: centerNetDecoding(entry).top_k,
      });
      return (out, min) => decoder.decode(output(out, 'heatmap', entry.name), output(out, 'wh', entry.name), min);
    }
    default:
      return undefined;
  }
}
