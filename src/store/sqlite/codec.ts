/**
 * Row <-> record conversion for the SQLite store. Dates are INTEGER milliseconds,
 * structured fields are JSON text, and the binary parts of regions are base64 inside
 * that JSON (they are read and written whole with their image, never queried).
 */
import type { OperationRecord } from '../operation-store';
import type { ProductRecord, ProductSetRecord, ReferenceImageRecord, RegionRecord, StatusRecord } from '../catalog-store';

export interface ProductSetRow {
  project: string;
  location: string;
  id: string;
  display_name: string;
  create_time: number;
  update_time: number;
}

export interface ProductRow extends ProductSetRow {
  description: string;
  product_category: string;
  labels: string;
}

export interface ReferenceImageRow {
  project: string;
  location: string;
  product_id: string;
  id: string;
  uri: string;
  bounding_polys: string;
  create_time: number;
  state: string;
  error: string | null;
  regions: string;
}

export interface OperationRow {
  project: string;
  location: string;
  id: string;
  kind: string;
  request: string | null;
  done: number;
  metadata: string | null;
  response: string | null;
  error: string | null;
  checkpoint: string | null;
  cancel_requested: number;
  lease_owner: string | null;
  lease_until: number | null;
  create_time: number;
  update_time: number;
}

/** Project-level operations have no location; the table keeps '' there (see schema.ts). */
export const opLocation = (location: string | null): string => location ?? '';

/** undefined is stored as SQL NULL so that an absent optional field reads back absent. */
export function toJson(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function fromJson(text: string | null): unknown {
  return text === null ? undefined : (JSON.parse(text) as unknown);
}

function fromJsonStatus(text: string | null): StatusRecord | undefined {
  return text === null ? undefined : (JSON.parse(text) as StatusRecord);
}

export function productSetFromRow(r: ProductSetRow): ProductSetRecord {
  return {
    project: r.project,
    location: r.location,
    id: r.id,
    displayName: r.display_name,
    createTime: new Date(r.create_time),
    updateTime: new Date(r.update_time),
  };
}

export function productFromRow(r: ProductRow): ProductRecord {
  return {
    ...productSetFromRow(r),
    description: r.description,
    productCategory: r.product_category,
    labels: JSON.parse(r.labels) as ProductRecord['labels'],
  };
}

interface StoredRegion {
  box: RegionRecord['box'];
  source: RegionRecord['source'];
  code?: string;
  embedding?: string;
  compact?: string;
}

export function regionsToJson(regions: RegionRecord[]): string {
  const stored: StoredRegion[] = regions.map((r) => ({
    box: r.box,
    source: r.source,
    code: r.code && base64(r.code),
    embedding: r.embedding && base64(r.embedding),
    compact: r.compact && base64(r.compact),
  }));
  return JSON.stringify(stored);
}

const base64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/** Copies into a fresh Uint8Array: Buffer.from(base64) may return a slice of a shared pool
 *  at an odd offset, and callers view embeddings as Float32Array, which needs offset 0. */
function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function regionsFromJson(text: string): RegionRecord[] {
  return (JSON.parse(text) as StoredRegion[]).map((s) => {
    const r: RegionRecord = { box: s.box, source: s.source };
    if (s.code !== undefined) r.code = fromBase64(s.code);
    if (s.embedding !== undefined) r.embedding = fromBase64(s.embedding);
    if (s.compact !== undefined) r.compact = fromBase64(s.compact);
    return r;
  });
}

export function referenceImageFromRow(r: ReferenceImageRow): ReferenceImageRecord {
  const rec: ReferenceImageRecord = {
    project: r.project,
    location: r.location,
    productId: r.product_id,
    id: r.id,
    uri: r.uri,
    boundingPolys: JSON.parse(r.bounding_polys) as ReferenceImageRecord['boundingPolys'],
    createTime: new Date(r.create_time),
    state: r.state as ReferenceImageRecord['state'],
    regions: regionsFromJson(r.regions),
  };
  const error = fromJsonStatus(r.error);
  if (error) rec.error = error;
  return rec;
}

export function operationFromRow(r: OperationRow): OperationRecord {
  const rec: OperationRecord = {
    project: r.project,
    location: r.location === '' ? null : r.location,
    id: r.id,
    kind: r.kind,
    request: fromJson(r.request),
    done: r.done !== 0,
    metadata: fromJson(r.metadata),
    cancelRequested: r.cancel_requested !== 0,
    createTime: new Date(r.create_time),
    updateTime: new Date(r.update_time),
  };
  if (r.response !== null) rec.response = fromJson(r.response);
  const error = fromJsonStatus(r.error);
  if (error) rec.error = error;
  if (r.checkpoint !== null) rec.checkpoint = fromJson(r.checkpoint);
  if (r.lease_owner !== null) rec.leaseOwner = r.lease_owner;
  if (r.lease_until !== null) rec.leaseUntil = new Date(r.lease_until);
  return rec;
}

export function operationToRow(rec: OperationRecord): OperationRow {
  return {
    project: rec.project,
    location: opLocation(rec.location),
    id: rec.id,
    kind: rec.kind,
    request: toJson(rec.request),
    done: rec.done ? 1 : 0,
    metadata: toJson(rec.metadata),
    response: toJson(rec.response),
    error: toJson(rec.error),
    checkpoint: toJson(rec.checkpoint),
    cancel_requested: rec.cancelRequested ? 1 : 0,
    lease_owner: rec.leaseOwner ?? null,
    lease_until: rec.leaseUntil?.getTime() ?? null,
    create_time: rec.createTime.getTime(),
    update_time: rec.updateTime.getTime(),
  };
}
