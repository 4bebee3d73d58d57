/**
 * Index snapshots on disk, so a restart serves at once instead of reading every region
 * from the store. A directory holds one file per product set and a manifest naming the
 * change feed (its id) and the position (`watermark`) every file is consistent with:
 * each set file was written when its set last changed, and the manifest after them, so
 * replaying the feed after the watermark brings every set up to date (applying a change
 * again is harmless). Files and manifest are written to a temporary name, fsync'd and
 * renamed, so a crash leaves the previous snapshot whole.
 *
 * Set file: 'MPXIDX03', u32 header length (LE), the header as JSON (scope, row count,
 * the codec's fingerprint and code bits, product count and the products' byte length),
 * the products as JSON lines (one per product: record, image ids, rows; lines, because
 * one JSON text of a few million products passes V8's longest string), then the
 * typed-array columns, each starting at a multiple of 8 bytes: flags (u8), image numbers
 * (u16), q (i8 × dims), scalars (4 × binary16: scale, offset, norm, residual), and, when
 * the header has `lists` (a set with coarse lists), the centroids (f32 × lists × 32) and
 * each row's list (u16, 0xffff for none). A file of an older format is not read: the set
 * is built from the store instead; one without lists has them trained again.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { LocationName } from '../core/names';
import { CompactColumns, type RerankBits } from './compact-embedding';
import { COARSE_DIMS, type IndexedProduct, type ProductSetIndexState } from './product-set-index';

const MAGIC = 'MPXIDX03';
/** Products per JSON-lines chunk written (each chunk one Buffer). */
const PRODUCTS_PER_CHUNK = 4096;
const MANIFEST = 'manifest.json';

export interface SnapshotManifest {
  feedId: string;
  watermark: number;
  /** When it was written (ms since epoch): a snapshot older than the feed's retention is not used. */
  time: number;
  /** Codec fingerprint (hex) and code bits: a snapshot of another projection is not used. */
  format: string;
  /** Set key (`project/location/id`) -> file name. */
  sets: Record<string, string>;
}

export interface SetSnapshot {
  scope: LocationName;
  setId: string;
  state: ProductSetIndexState;
}

export const snapshotFileName = (key: string) => `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.idx`;

/** Writes one set's file (its state copied by the caller: the index may change meanwhile). */
export async function writeSetSnapshot(dir: string, key: string, snap: SetSnapshot, format: string): Promise<string> {
  const { state } = snap;
  const productChunks: Buffer[] = [];
  for (let at = 0; at < state.products.length; at += PRODUCTS_PER_CHUNK) {
    const lines = state.products
      .slice(at, at + PRODUCTS_PER_CHUNK)
      .map((p) => `${JSON.stringify({ r: p.record, i: p.images, w: p.rows })}\n`);
    productChunks.push(Buffer.from(lines.join('')));
  }
  const header = Buffer.from(
    JSON.stringify({
      scope: snap.scope,
      setId: snap.setId,
      format,
      rowCount: state.rowCount,
      dims: state.compact.dims,
      bits: state.compact.bits,
      products: state.products.length,
      productBytes: productChunks.reduce((sum, b) => sum + b.length, 0),
      ...(state.lists ? { lists: { count: state.lists.centroids.length / COARSE_DIMS, trainedAt: state.lists.trainedAt } } : {}),
    }),
  );
  const c = state.compact;
  const n = state.rowCount;
  const columns: ArrayBufferView[] = [
    state.flags.subarray(0, n),
    state.image.subarray(0, n),
    c.q.subarray(0, n * c.rowBytes),
    c.scalars.subarray(0, n * 4),
  ];
  if (state.lists) columns.push(state.lists.centroids, state.lists.listOfRow.subarray(0, n));
  const head = Buffer.alloc(12);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(header.length, 8);
  const parts: Uint8Array[] = [head, header, ...productChunks];
  let offset = parts.reduce((sum, b) => sum + b.length, 0);
  for (const col of columns) {
    const pad = (8 - (offset % 8)) % 8;
    if (pad) parts.push(new Uint8Array(pad));
    const bytes = new Uint8Array(col.buffer, col.byteOffset, col.byteLength);
    parts.push(bytes);
    offset += pad + bytes.length;
  }
  const name = snapshotFileName(key);
  await writeAtomically(dir, name, parts);
  return name;
}

export async function writeManifest(dir: string, manifest: SnapshotManifest): Promise<void> {
  await writeAtomically(dir, MANIFEST, [Buffer.from(JSON.stringify(manifest))]);
  // Files of sets no longer in the manifest (deleted sets) go.
  const keep = new Set([MANIFEST, ...Object.values(manifest.sets)]);
  for (const f of await readdir(dir)) if (f.endsWith('.idx') && !keep.has(f)) await rm(path.join(dir, f), { force: true });
}

export async function readManifest(dir: string): Promise<SnapshotManifest | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, MANIFEST), 'utf8')) as SnapshotManifest;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export async function readSetSnapshot(dir: string, file: string, format: string): Promise<SetSnapshot> {
  // Read column by column into their typed arrays: a file past 2 GB cannot be one Buffer.
  const fh = await open(path.join(dir, file), 'r');
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(12);
    await readFully(fh, head, 0);
    if (head.toString('latin1', 0, 8) !== MAGIC) throw new Error(`${file}: not an index snapshot`);
    const headerLength = head.readUInt32LE(8);
    const headerBytes = Buffer.alloc(headerLength);
    await readFully(fh, headerBytes, 12);
    const header = JSON.parse(headerBytes.toString('utf8')) as {
      scope: LocationName;
      setId: string;
      format: string;
      rowCount: number;
      dims: number;
      /** Absent in files written before 4-bit columns: 8. */
      bits?: RerankBits;
      products: number;
      productBytes: number;
      /** Present when the set had coarse lists (their columns follow the others). */
      lists?: { count: number; trainedAt: number };
    };
    if (header.format !== format) throw new Error(`${file}: made for format ${header.format}, not ${format}`);
    const n = header.rowCount;
    const products = await readProductLines(fh, 12 + headerLength, header.productBytes);
    if (products.length !== header.products) throw new Error(`${file}: ${products.length} products, the header says ${header.products}`);
    let offset = 12 + headerLength + header.productBytes;
    // Each column is read into an array with room for the writes that follow (as a build
    // from the store leaves it), which the index then takes as its own.
    const capacity = n + Math.ceil(n / 128);
    const take = async <T extends ArrayBufferView>(array: T, bytesPerRow: number, bytes = bytesPerRow * n): Promise<T> => {
      offset += (8 - (offset % 8)) % 8;
      if (offset + bytes > size) throw new Error(`${file}: truncated`);
      await readFully(fh, new Uint8Array(array.buffer, array.byteOffset, bytes), offset);
      offset += bytes;
      return array;
    };
    const flags = await take(new Uint8Array(capacity), 1);
    const image = await take(new Uint16Array(capacity), 2);
    const compact = new CompactColumns(header.dims, capacity, header.bits ?? 8);
    // Read in place: the columns' rows may live in a kernel's memory (CompactColumns).
    await take(compact.q, compact.rowBytes);
    compact.scalars = await take(compact.scalars, 8);
    let lists: ProductSetIndexState['lists'];
    if (header.lists) {
      const { count, trainedAt } = header.lists;
      const centroids = new Float32Array(count * COARSE_DIMS);
      await take(centroids, 0, centroids.byteLength);
      lists = { centroids, listOfRow: await take(new Uint16Array(n), 2), trainedAt };
    }
    const state: ProductSetIndexState = { products, rowCount: n, flags, image, compact, ...(lists ? { lists } : {}) };
    return { scope: header.scope, setId: header.setId, state };
  } finally {
    await fh.close();
  }
}

/** The products section: JSON lines read a chunk at a time (a line may span two chunks). */
async function readProductLines(fh: FileHandle, position: number, length: number): Promise<ProductSetIndexState['products']> {
  const products: ProductSetIndexState['products'] = [];
  let carry = Buffer.alloc(0);
  for (let done = 0; done < length;) {
    const chunk = Buffer.alloc(Math.min(IO_CHUNK, length - done));
    await readFully(fh, chunk, position + done);
    done += chunk.length;
    const bytes = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const end = bytes.lastIndexOf(0x0a) + 1;
    for (const line of bytes.toString('utf8', 0, end).split('\n')) {
      if (!line) continue;
      const p = JSON.parse(line) as { r: IndexedProduct; i: string[]; w: number[] };
      products.push({ record: p.r, images: p.i, rows: p.w });
    }
    carry = bytes.subarray(end);
  }
  if (carry.length) throw new Error('index snapshot: the products section does not end with a line');
  return products;
}

/** Largest single read or write: Node refuses buffers of 2 GB and more in one call. */
let IO_CHUNK = 256 * 1024 * 1024;

/** For tests: a small chunk makes every file take the many-chunk path a 3 GB one takes. */
export function setSnapshotIoChunk(bytes: number): void {
  IO_CHUNK = bytes;
}

async function readFully(fh: FileHandle, into: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < into.length;) {
    const { bytesRead } = await fh.read(into, done, Math.min(IO_CHUNK, into.length - done), position + done);
    if (bytesRead === 0) throw new Error('index snapshot truncated');
    done += bytesRead;
  }
}

async function writeAtomically(dir: string, name: string, parts: Uint8Array[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${name}.${process.pid}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    for (const p of parts) for (let at = 0; at < p.length; at += IO_CHUNK) await fh.write(p, at, Math.min(IO_CHUNK, p.length - at));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path.join(dir, name));
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
