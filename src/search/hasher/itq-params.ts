/**
 * Reading and checking the ITQ parameter files written by tools/hashing/train_itq.py.
 * Layout per code length k (see docs/hashing.md):
 *   itq-<k>.json  header: format, bits, dims, provenance
 *   itq-<k>.bin   float32 little-endian: mean[dims], then rows[bits][dims]
 *   manifest.json sha256 of every file, so a truncated or swapped file fails at startup
 *                 instead of silently producing codes that match nothing in the index.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export const ITQ_FORMAT = 'metapixel-itq/1';

export interface ItqParams {
  bits: number;
  dims: number;
  /** Training mean, subtracted before projecting. */
  mean: Float32Array;
  /** Row-major bits × dims: PCA basis times the learned rotation (maybe identity), one row per bit. */
  rows: Float32Array;
  /** From the header's method.rotation: 'none' means training kept plain PCA signs. */
  method?: 'itq' | 'pca-sign';
}

interface ManifestEntry {
  sha256: string;
  bytes: number;
}
interface Manifest {
  files: Record<string, ManifestEntry>;
}
interface Header {
  format: string;
  bits: number;
  dims: number;
  bin: string;
  method?: { rotation?: string };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readManifest(dir: string): Promise<Manifest> {
  return JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
}

export async function readItqParams(dir: string, bits: number): Promise<ItqParams> {
  const manifest = await readManifest(dir);
  const headerName = `itq-${bits}.json`;
  const headerBytes = await readVerified(dir, headerName, manifest);
  const header = JSON.parse(Buffer.from(headerBytes).toString('utf8')) as Header;
  if (header.format !== ITQ_FORMAT) throw new Error(`${headerName}: format ${header.format}, expected ${ITQ_FORMAT}`);
  if (header.bits !== bits || !Number.isInteger(header.dims) || header.dims <= 0) {
    throw new Error(`${headerName}: shape ${header.bits} bits × ${header.dims} dims, expected ${bits} bits`);
  }
  const bin = await readVerified(dir, header.bin, manifest);
  const floats = header.dims * (bits + 1);
  if (bin.length !== floats * 4) throw new Error(`${header.bin}: ${bin.length} bytes, expected ${floats * 4}`);
  // Copy into an aligned buffer: the file's Buffer may sit at any offset of Node's pool.
  const all = new Float32Array(floats);
  new Uint8Array(all.buffer).set(bin);
  const method = header.method?.rotation === 'none' ? 'pca-sign' : 'itq';
  return { bits, dims: header.dims, mean: all.subarray(0, header.dims), rows: all.subarray(header.dims), method };
}

/** Whether the hashing directory's manifest lists this file. */
export async function hashingFileListed(dir: string, name: string): Promise<boolean> {
  return Object.hasOwn((await readManifest(dir)).files, name);
}

/** A file of the hashing directory, checked against its manifest entry (sha256 and size). */
export async function readHashingFile(dir: string, name: string): Promise<Uint8Array> {
  return readVerified(dir, name, await readManifest(dir));
}

async function readVerified(dir: string, name: string, manifest: Manifest): Promise<Uint8Array> {
  const entry = manifest.files[name];
  if (!entry) throw new Error(`${name} is not listed in ${path.join(dir, 'manifest.json')}`);
  const bytes = await fs.readFile(path.join(dir, name));
  const got = sha256Hex(bytes);
  if (got !== entry.sha256 || bytes.length !== entry.bytes) {
    throw new Error(`${name}: sha256 ${got} (${bytes.length} bytes) does not match the manifest (${entry.sha256}, ${entry.bytes} bytes)`);
  }
  return bytes;
}
