/**
 * Local inputs of `metapixel import` -> a CSV at gs:// that ImportProductSets can read.
 * A folder becomes one product per sub-folder (`dir/<product-id>/<images>`, searched
 * recursively) or per top-level image file (product id = file name without extension);
 * its images are uploaded under the staging prefix keeping their relative paths, so a
 * re-run writes the same objects, the server derives the same image ids and nothing is
 * duplicated. The CSV itself is named by its content hash for the same reason.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/config';
import { mapLimit } from '../core/concurrency';
import { GcsWriter, parseGsPrefix } from '../images/gcs-writer';
import { cloudStorage } from '../images/cloud-storage';
import { expandInputs, IMAGE_EXTENSIONS } from './inputs';

export interface Staging {
  bucket: string;
  /** Empty or ending in '/'. */
  prefix: string;
}

/** One CSV line to be: a local image and the product it belongs to. */
export interface PlannedLine {
  file: string;
  productId: string;
  object: string;
}

export function parseStaging(uri: string): Staging {
  const { bucket, prefix } = parseGsPrefix(uri, '--staging');
  return { bucket, prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/` };
}

/** A writer to the Cloud Storage the server reads, configured by the same variables. */
export function stagingWriter(): GcsWriter {
  const config = loadConfig(process.env);
  const timeoutMs = Math.max(config.fetchTimeoutMs, 60000);
  return new GcsWriter({ storage: cloudStorage(config, timeoutMs), localDir: config.gcsDir, timeoutMs });
}

export async function planFolder(dir: string, staging: Staging): Promise<PlannedLine[]> {
  const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const lines: PlannedLine[] = [];
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      for (const { input } of await expandInputs([full])) lines.push(planned(dir, input, e.name, staging));
    } else if (IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase())) {
      lines.push(planned(dir, full, path.basename(e.name, path.extname(e.name)), staging));
    }
  }
  return lines;
}

function planned(root: string, file: string, productId: string, staging: Staging): PlannedLine {
  return { file, productId, object: staging.prefix + path.relative(root, file).split(path.sep).join('/') };
}

export interface CsvColumns {
  productSetId: string;
  category: string;
}

/** Google's columns: image-uri, image-id, product-set-id, product-id, product-category, product-display-name, labels, bounding-poly. */
export function csvFor(lines: readonly PlannedLine[], staging: Staging, cols: CsvColumns): string {
  return lines
    .map(
      (l) =>
        [`gs://${staging.bucket}/${l.object}`, '', cols.productSetId, l.productId, cols.category, l.productId, '', '']
          .map(csvField)
          .join(',') + '\n',
    )
    .join('');
}

/** Quoted only when needed, so the common case reads like Google's examples. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Uploads each file, `concurrency` at a time; `onDone` after each. */
export async function uploadFiles(
  writer: GcsWriter,
  bucket: string,
  lines: readonly PlannedLine[],
  concurrency: number,
  onDone: () => void,
): Promise<void> {
  await mapLimit(lines, concurrency, async (line) => {
    const body = await fs.readFile(line.file).catch((e: Error) => {
      throw new Error(`cannot read ${line.file}: ${e.message}`);
    });
    await writer.write(bucket, line.object, body, contentType(line.file)).catch((e: Error) => {
      throw new Error(`uploading ${line.file} to gs://${bucket}/${line.object} failed: ${e.message}`);
    });
    onDone();
  });
}

/** Uploads a CSV under the staging prefix, named by its content; returns its gs:// URI. */
export async function uploadCsv(writer: GcsWriter, staging: Staging, csv: Buffer, stem: string): Promise<string> {
  const object = `${staging.prefix}${stem}-${createHash('sha256').update(csv).digest('hex').slice(0, 12)}.csv`;
  await writer.write(staging.bucket, object, csv, 'text/csv').catch((e: Error) => {
    throw new Error(`uploading the CSV to gs://${staging.bucket}/${object} failed: ${e.message}`);
  });
  return `gs://${staging.bucket}/${object}`;
}

const TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.jpe': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.heic': 'image/heic',
  '.heif': 'image/heif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.jp2': 'image/jp2',
};

function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}
