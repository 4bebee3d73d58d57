/**
 * Google's validation rules for Product Search resources, as stated in the Vision v1
 * protos (product_search_service.proto). Each check throws INVALID_ARGUMENT naming the field.
 */
import { randomBytes } from 'node:crypto';
import { failedPrecondition, invalidArgument } from '../core/errors';
import type { KeyValue, PolyRecord } from '../store/catalog-store';
import type { BoundingPolyMsg, KeyValueMsg } from '../core/messages';
import { checkRectangle } from '../core/rectangle-rule';

export const MAX_ID_LENGTH = 128;
export const MAX_TEXT_LENGTH = 4096;
export const MAX_LABEL_BYTES = 128;
export const MAX_LABELS_PER_PRODUCT = 500;
export const MAX_POLYS_PER_IMAGE = 10;

/** Current categories, then the legacy ones Google still accepts (gcloud offers only those). */
export const PRODUCT_CATEGORIES = [
  'homegoods-v2',
  'apparel-v2',
  'toys-v2',
  'packagedgoods-v1',
  'general-v1',
  'homegoods',
  'apparel',
  'toys',
] as const;

/** A caller-chosen id, or a server-assigned one when omitted. */
/** A product joins one more set only while it is in fewer than `max` (single calls and imports). */
export function roomForAnotherSet(product: string, sets: number, max: number): void {
  if (sets >= max) throw failedPrecondition(`Product ${product} is already in ${sets} product sets, the most allowed.`);
}

export function resourceId(given: string | undefined, field: string): string {
  if (!given) return randomBytes(8).toString('hex');
  if (given.length > MAX_ID_LENGTH) throw invalidArgument(`${field} must be at most ${MAX_ID_LENGTH} characters.`);
  if (given.includes('/')) throw invalidArgument(`${field} cannot contain the character "/".`);
  // A control character cannot travel in a resource name, and '.'/'..' are folded away by
  // URL path normalisation: such an id could be created but never named again.
  if (CONTROL.test(given)) throw invalidArgument(`${field} cannot contain control characters.`);
  if (given === '.' || given === '..') throw invalidArgument(`${field} cannot be "." or "..".`);
  return given;
}

/** C0, DEL and C1 control characters. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_BUT_BREAKS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

export function requiredText(value: string | undefined, field: string): string {
  if (!value) throw invalidArgument(`Missing required field: ${field}.`);
  return optionalText(value, field);
}

/** `multiline` text (a description) may hold tabs and line breaks, other controls never. */
export function optionalText(value: string | undefined, field: string, multiline = false): string {
  const v = value ?? '';
  if (v.length > MAX_TEXT_LENGTH) throw invalidArgument(`${field} must be at most ${MAX_TEXT_LENGTH} characters.`);
  if ((multiline ? CONTROL_BUT_BREAKS : CONTROL).test(v)) throw invalidArgument(`${field} cannot contain control characters.`);
  return v;
}

export function productCategory(value: string | undefined): string {
  if (!value) throw invalidArgument('Missing required field: product_category.');
  if (!(PRODUCT_CATEGORIES as readonly string[]).includes(value)) {
    throw invalidArgument(`Invalid product_category "${value}": must be one of ${PRODUCT_CATEGORIES.join(', ')}.`);
  }
  return value;
}

export function labels(values: KeyValueMsg[] | undefined): KeyValue[] {
  const list = values ?? [];
  if (list.length > MAX_LABELS_PER_PRODUCT) {
    throw invalidArgument(`A product can have at most ${MAX_LABELS_PER_PRODUCT} product_labels.`);
  }
  return list.map((kv, i) => {
    for (const part of ['key', 'value'] as const) {
      const s = kv[part] ?? '';
      if (!s) throw invalidArgument(`product_labels[${i}].${part} must not be empty.`);
      if (CONTROL.test(s)) throw invalidArgument(`product_labels[${i}].${part} cannot contain control characters.`);
      if (Buffer.byteLength(s, 'utf8') > MAX_LABEL_BYTES) {
        throw invalidArgument(`product_labels[${i}].${part} must be at most ${MAX_LABEL_BYTES} bytes.`);
      }
    }
    return { key: kv.key, value: kv.value };
  });
}

export function imageUri(value: string | undefined): string {
  if (!value) throw invalidArgument('Missing required field: reference_image.uri.');
  if (value.length > MAX_TEXT_LENGTH) throw invalidArgument(`reference_image.uri must be at most ${MAX_TEXT_LENGTH} characters.`);
  if (!/^gs:\/\/[^/]+\/.+/.test(value)) {
    throw invalidArgument(`Invalid reference_image.uri "${value.slice(0, 200)}": expected gs://bucket/object.`);
  }
  return value;
}

/**
 * Bounding polys of a reference image. Pixel polys are checked now (Google turns each into
 * an axis-aligned rectangle whose short side must be >= 300 px, aspect no worse than 1:4);
 * normalized polys are checked the same way once the image size is known, at ingestion.
 */
export function referencePolys(polys: BoundingPolyMsg[] | undefined): PolyRecord[] {
  const list = polys ?? [];
  if (list.length > MAX_POLYS_PER_IMAGE) {
    throw invalidArgument(`reference_image.bounding_polys has ${list.length} polygons; at most ${MAX_POLYS_PER_IMAGE} are allowed.`);
  }
  return list.map((poly, i) => {
    const field = `reference_image.bounding_polys[${i}]`;
    const px = poly.vertices ?? [];
    const norm = poly.normalizedVertices ?? [];
    if (px.length && norm.length) throw invalidArgument(`${field}: give vertices or normalized_vertices, not both.`);
    if (px.length) {
      checkRectangle(px, 1, field);
      return { vertices: px.map((v) => ({ x: v.x ?? 0, y: v.y ?? 0 })), normalized: false };
    }
    if (norm.length) {
      if (norm.some((v) => (v.x ?? 0) < 0 || (v.x ?? 0) > 1 || (v.y ?? 0) < 0 || (v.y ?? 0) > 1)) {
        throw invalidArgument(`${field}: normalized_vertices must lie in [0, 1].`);
      }
      return { vertices: norm.map((v) => ({ x: v.x ?? 0, y: v.y ?? 0 })), normalized: true };
    }
    throw invalidArgument(`${field} has no vertices.`);
  });
}
