/**
 * Typed view of models/manifest.json. Only the fields the runtime needs are validated
 * (input tensor, outputs, labels, the SSD/CenterNet decoding numbers); the rest of the
 * manifest is provenance for humans. The ONNX bytes are checked against the manifest's
 * sha256 when a model is loaded, so a swapped or truncated file fails at startup, not as
 * silently wrong detections.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import Ajv from 'ajv';
import { failedPrecondition, invalidArgument } from '../core/errors';

export interface TensorSpec {
  name: string;
  shape: number[];
}

export interface LabelEntry {
  index: number;
  /** The label string of the model itself ('Dog' for the SSD, 'dog' for CenterNet). */
  name: string;
  /** Open Images display name; null only for the SSD background class. */
  open_images_name: string | null;
  mid: string | null;
}

export interface SsdDecoding {
  anchors: {
    input_size: number[];
    strides: number[];
    min_scale: number;
    max_scale: number;
    aspect_ratios: number[];
    interpolated_scale_aspect_ratio: number;
    reduce_boxes_in_lowest_layer: boolean;
  };
  box_coder: { scales: { y: number; x: number; h: number; w: number } };
  min_score: number;
  nms: { iou_threshold: number; max_detections: number };
}

export interface CenterNetDecoding {
  top_k: number;
}

export interface ModelEntry {
  name: string;
  file: string;
  sha256: string;
  kind: 'detector' | 'embedder';
  input: TensorSpec;
  outputs: TensorSpec[];
  /**
   * Human-readable, except: model-io.ts recognises the scaling formula `scaling` starts
   * with, and `keep_aspect` marks a model with free height and width (multiples of
   * `multiple`), which then gets each image at its own aspect ratio (model-io.ts inputSize);
   * `free_hw` marks one whose height and width are free but which is fed its manifest size
   * unless a caller asks for another (the embedder's feature map at 448x448).
   */
  preprocessing: { scaling: string; colour_order: string; keep_aspect?: { multiple: number }; free_hw?: { multiple: number } };
  decoding?: Record<string, unknown>;
  labels?: LabelEntry[];
  /**
   * How the server uses the model: which decoder reads its outputs and, for detectors,
   * the score calibration onto the shared scale (calibration.ts). Adding a detector of a
   * known decoder type is a manifest change, not a code change.
   */
  runtime: { decoder: 'ssd' | 'centernet' | 'embedding'; calibration?: { scale: number; shift: number } };
}

const num = { type: 'number' } as const;
const numArr = { type: 'array', items: num } as const;
const tensorSchema = {
  type: 'object',
  required: ['name', 'shape'],
  properties: { name: { type: 'string', minLength: 1 }, shape: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1 } },
} as const;

// Plain schemas rather than JSONSchemaType<ModelEntry>: most manifest fields are
// provenance we deliberately leave untyped, and each decoding block differs per model.
const entrySchema = {
  type: 'object',
  required: ['name', 'file', 'sha256', 'kind', 'input', 'outputs', 'preprocessing', 'runtime'],
  properties: {
    runtime: {
      type: 'object',
      required: ['decoder'],
      properties: {
        decoder: { enum: ['ssd', 'centernet', 'embedding'] },
        calibration: { type: 'object', required: ['scale', 'shift'], properties: { scale: num, shift: num } },
      },
    },
    name: { type: 'string', minLength: 1 },
    file: { type: 'string', pattern: '^[A-Za-z0-9_.-]+\\.onnx$' },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    kind: { enum: ['detector', 'embedder'] },
    input: tensorSchema,
    outputs: { type: 'array', items: tensorSchema, minItems: 1 },
    preprocessing: {
      type: 'object',
      required: ['scaling', 'colour_order'],
      properties: {
        scaling: { type: 'string' },
        colour_order: { const: 'RGB' },
        keep_aspect: { type: 'object', required: ['multiple'], properties: { multiple: { type: 'integer', minimum: 1 } } },
        free_hw: { type: 'object', required: ['multiple'], properties: { multiple: { type: 'integer', minimum: 1 } } },
      },
    },
    // Each decoder validates its own block (ssdDecoding, centerNetDecoding below).
    decoding: { type: 'object' },
    labels: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'name', 'open_images_name', 'mid'],
        properties: {
          index: { type: 'integer', minimum: 0 },
          name: { type: 'string' },
          open_images_name: { type: ['string', 'null'] },
          mid: { type: ['string', 'null'], pattern: '^/m/[0-9a-z_]+$' },
        },
      },
    },
  },
} as const;

const manifestSchema = {
  type: 'object',
  required: ['models'],
  properties: { models: { type: 'array', items: entrySchema } },
} as const;

export class ModelManifest {
  private constructor(
    /** Directory holding manifest.json and the ONNX files. */
    readonly dir: string,
    readonly models: readonly ModelEntry[],
  ) {}

  /** Parses and validates the manifest text (no file access besides `dir` bookkeeping). */
  static parse(dir: string, json: string): ModelManifest {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile<{ models: ModelEntry[] }>(manifestSchema);
    let data: unknown;
    try {
      data = JSON.parse(json);
    } catch (e) {
      throw invalidArgument(`models manifest is not JSON: ${(e as Error).message}`);
    }
    if (!validate(data)) {
      const why = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
      throw invalidArgument(`models manifest is invalid: ${why}`);
    }
    for (const m of data.models) checkLabels(m);
    return new ModelManifest(dir, data.models);
  }

  static async load(dir: string): Promise<ModelManifest> {
    return ModelManifest.parse(dir, await readFile(path.join(dir, 'manifest.json'), 'utf8'));
  }

  entry(name: string): ModelEntry {
    const m = this.models.find((e) => e.name === name);
    if (!m) throw failedPrecondition(`model ${name} is not in the manifest`);
    return m;
  }

  /** Reads the ONNX file of `name` and checks its sha256; returns the verified bytes. */
  async readVerified(name: string): Promise<{ entry: ModelEntry; bytes: Uint8Array }> {
    const entry = this.entry(name);
    const bytes = await readFile(path.join(this.dir, entry.file));
    const got = createHash('sha256').update(bytes).digest('hex');
    if (got !== entry.sha256) {
      throw failedPrecondition(`model file ${entry.file} has sha256 ${got}, manifest says ${entry.sha256}`);
    }
    return { entry, bytes };
  }
}

/** Labels must be dense and in index order: decoders index them by class id. */
function checkLabels(m: ModelEntry): void {
  (m.labels ?? []).forEach((l, i) => {
    if (l.index !== i) throw invalidArgument(`models manifest: ${m.name} label #${i} has index ${l.index}`);
  });
}

const ssdSchema = {
  type: 'object',
  required: ['anchors', 'box_coder', 'min_score', 'nms'],
  properties: {
    anchors: {
      type: 'object',
      required: [
        'input_size',
        'strides',
        'min_scale',
        'max_scale',
        'aspect_ratios',
        'interpolated_scale_aspect_ratio',
        'reduce_boxes_in_lowest_layer',
      ],
      properties: {
        input_size: { ...numArr, minItems: 2, maxItems: 2 },
        strides: { ...numArr, minItems: 1 },
        min_scale: num,
        max_scale: num,
        aspect_ratios: numArr,
        interpolated_scale_aspect_ratio: num,
        reduce_boxes_in_lowest_layer: { type: 'boolean' },
      },
    },
    box_coder: {
      type: 'object',
      required: ['scales'],
      properties: { scales: { type: 'object', required: ['x', 'y', 'w', 'h'], properties: { x: num, y: num, w: num, h: num } } },
    },
    min_score: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
    nms: {
      type: 'object',
      required: ['iou_threshold', 'max_detections'],
      properties: { iou_threshold: num, max_detections: { type: 'integer', minimum: 1 } },
    },
  },
} as const;

const centerNetSchema = {
  type: 'object',
  required: ['top_k'],
  properties: { top_k: { type: 'integer', minimum: 1 } },
} as const;

function validateBlock<T>(m: ModelEntry, schema: object, what: string): T {
  const validate = new Ajv({ allErrors: true, strict: false }).compile<T>(schema);
  const d = m.decoding ?? {};
  if (!validate(d)) {
    const why = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
    throw invalidArgument(`models manifest: ${m.name} ${what} decoding is invalid: ${why}`);
  }
  return d;
}

export function ssdDecoding(m: ModelEntry): SsdDecoding {
  return validateBlock<SsdDecoding>(m, ssdSchema, 'SSD');
}

export function centerNetDecoding(m: ModelEntry): CenterNetDecoding {
  return validateBlock<CenterNetDecoding>(m, centerNetSchema, 'CenterNet');
}
