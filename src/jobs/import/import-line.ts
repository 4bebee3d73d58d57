/**
 * One CSV line of ImportProductSets, parsed and checked with the same rules as the single
 * calls (src/catalog/rules.ts), so an import cannot accept what CreateProduct or
 * CreateReferenceImage would refuse. Columns (Google's): image-uri, image-id,
 * product-set-id, product-id, product-category, product-display-name, labels
 * ("k=v,k=v"), bounding-poly ("x1,y1,x2,y2,..."; integers are pixels, decimals in [0,1]
 * are normalized).
 */
import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { invalidArgument, isMetapixelError } from '../../core/errors';
import * as rules from '../../catalog/rules';
import type { BoundingPolyMsg, KeyValueMsg } from '../../core/messages';
import type { KeyValue, PolyRecord } from '../../store/catalog-store';

export const COLUMNS = [
  'image-uri',
  'image-id',
  'product-set-id',
  'product-id',
  'product-category',
  'product-display-name',
  'labels',
  'bounding-poly',
] as const;

export interface ImportLine {
  uri: string;
  /** The given image-id, or one derived from the URI (see imageIdFor). */
  imageId: string;
  productSetId: string;
  productId: string;
  /** Only used (and only checked) when the product does not exist yet. */
  category: string;
  displayName: string;
  labels: KeyValue[];
  /** At most one region per line (Google). */
  poly?: PolyRecord;
}

/** Parses and checks one line; throws INVALID_ARGUMENT naming the line and the column. */
export function parseImportLine(index: number, text: string): ImportLine {
  try {
    return parseFields(splitFields(text));
  } catch (e) {
    if (isMetapixelError(e)) throw invalidArgument(`Line ${index}: ${e.message}`);
    throw e;
  }
}

function splitFields(text: string): string[] {
  if (text.trim() === '') throw invalidArgument('the line is empty.');
  let records: string[][];
  try {
    records = parse(text, { relax_column_count: true, trim: true, skip_empty_lines: false });
  } catch (e) {
    throw invalidArgument(`not a CSV line (${(e as Error).message.replace(/ at line \d+/, '')}).`);
  }
  const fields = records[0] ?? [];
  if (records.length !== 1) throw invalidArgument('a quoted field spans lines; every image must be on one line.');
  if (fields.length > COLUMNS.length)
    throw invalidArgument(`${fields.length} columns; there are at most ${COLUMNS.length} (${COLUMNS.join(', ')}).`);
  return fields;
}

function parseFields(f: string[]): ImportLine {
  const col = (i: number) => f[i] ?? '';
  const required = (i: number) => {
    if (!col(i)) throw invalidArgument(`missing required column ${COLUMNS[i]}.`);
    return col(i);
  };
  const uri = rules.imageUri(required(0));
  const productSetId = rules.resourceId(required(2), 'product-set-id');
  const productId = rules.resourceId(required(3), 'product-id');
  const category = required(4);
  const imageId = col(1) ? rules.resourceId(col(1), 'image-id') : imageIdFor(uri);
  return {
    uri,
    imageId,
    productSetId,
    productId,
    category,
    // Google: an empty display name becomes a single space, to be updated later.
    displayName: rules.optionalText(col(5), 'product-display-name') || ' ',
    labels: rules.labels(parseLabels(col(6))),
    ...(col(7) ? { poly: parsePoly(col(7)) } : {}),
  };
}

/**
 * A line without image-id gets an id derived from its URI: a resumed or re-run import
 * finds the image it made before instead of adding a duplicate, and several lines naming
 * one image (one region each, as Google asks) add their regions to the same image.
 */
export function imageIdFor(uri: string): string {
  return createHash('sha256').update(uri).digest('hex').slice(0, 16);
}

function parseLabels(text: string): KeyValueMsg[] {
  if (!text) return [];
  return text.split(',').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) throw invalidArgument(`labels: "${pair.trim().slice(0, 100)}" is not key=value.`);
    return { key: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim() };
  });
}

/** Integers are pixel vertices; any decimal makes the polygon normalized. */
function parsePoly(text: string): PolyRecord {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length % 2 !== 0 || parts.length < 6) {
    throw invalidArgument('bounding-poly: give an even number of comma-separated numbers, at least 3 vertices (x1,y1,x2,y2,x3,y3,...).');
  }
  if (parts.some((p) => !/^(\d+(\.\d*)?|\.\d+)$/.test(p))) throw invalidArgument('bounding-poly: vertices must be non-negative numbers.');
  const normalized = parts.some((p) => p.includes('.'));
  const nums = parts.map(Number);
  const vertices = [];
  for (let i = 0; i < nums.length; i += 2) vertices.push({ x: nums[i], y: nums[i + 1] });
  const msg: BoundingPolyMsg = normalized ? { normalizedVertices: vertices } : { vertices };
  try {
    return rules.referencePolys([msg])[0];
  } catch (e) {
    if (isMetapixelError(e)) throw invalidArgument(`bounding-poly: ${e.message.replace(/^reference_image\.bounding_polys\[0\]:? ?/, '')}`);
    throw e;
  }
}
