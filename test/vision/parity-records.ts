/** Reads models/parity records and their recorded input tensors (see models/README.md). */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { Tensor } from '../../src/vision/inference';

export const MODELS_DIR = path.resolve(__dirname, '..', '..', 'models');
const PARITY_DIR = path.join(MODELS_DIR, 'parity');

export interface RecordedDetection {
  classId: number;
  label: string;
  score: number;
  box: number[];
}
export interface ParityCase {
  image: string;
  input_file: string;
  input_sha256: string;
  input_shape: number[];
  detections?: RecordedDetection[];
}

export function parityCases(model: string): ParityCase[] {
  return (JSON.parse(fs.readFileSync(path.join(PARITY_DIR, `${model}.json`), 'utf8')) as { cases: ParityCase[] }).cases;
}

export function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** Little-endian float32 bytes of a tensor, the format of the recorded inputs. */
export function f32Bytes(data: Float32Array): Buffer {
  const out = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i], i * 4);
  return out;
}

export function recordedInput(c: ParityCase): Tensor {
  const raw = zlib.gunzipSync(fs.readFileSync(path.join(PARITY_DIR, c.input_file)));
  if (sha256(raw) !== c.input_sha256) throw new Error(`${c.input_file}: sha256 mismatch`);
  const data = new Float32Array(raw.length / 4);
  for (let i = 0; i < data.length; i++) data[i] = raw.readFloatLE(i * 4);
  return { data, dims: c.input_shape };
}
