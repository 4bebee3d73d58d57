/**
 * Document shapes of the MongoDB store and their conversion to and from records.
 *
 * `_id` is the record's key joined with '/', which is unambiguous because ids never
 * contain '/'. The key fields are also stored apart so lists can range-scan an index.
 */
import { Binary } from 'mongodb';
import type {
  KeyValue,
  PolyRecord,
  ProductRecord,
  ProductSetRecord,
  ReferenceImageRecord,
  RegionRecord,
  StatusRecord,
} from '../catalog-store';
import type { OperationRecord } from '../operation-store';

/** The fields product sets and products share. */
interface CatalogDoc {
  _id: string;
  project: string;
  location: string;
  id: string;
  displayName: string;
  createTime: Date;
  updateTime: Date;
}

/** Sets stored by older builds may carry `indexStamp` / `indexStampTime` (the index
 *  stamps the change feed replaced); they are ignored. */
export type ProductSetDoc = CatalogDoc;

export interface ProductDoc extends CatalogDoc {
  description: string;
  productCategory: string;
  labels: KeyValue[];
}

interface RegionDoc {
  box: RegionRecord['box'];
  source: RegionRecord['source'];
  code?: Binary;
  embedding?: Binary;
  compact?: Binary;
}

export interface ReferenceImageDoc {
  _id: string;
  project: string;
  location: string;
  productId: string;
  id: string;
  uri: string;
  boundingPolys: PolyRecord[];
  createTime: Date;
  state: ReferenceImageRecord['state'];
  error: StatusRecord | null;
  regions: RegionDoc[];
}

export interface MembershipDoc {
  _id: string;
  project: string;
  location: string;
  setId: string;
  productId: string;
}

/** The handler-owned fields (request, metadata, response, checkpoint) are kept as JSON
 *  text: they are JSON-safe but may hold keys MongoDB treats specially ('$x', 'a.b'), and
 *  they are never queried. null stands for absent so the claim index sees every field. */
export interface OperationDoc {
  _id: string;
  project: string;
  location: string | null;
  id: string;
  kind: string;
  request: string | null;
  done: boolean;
  metadata: string | null;
  response: string | null;
  error: StatusRecord | null;
  checkpoint: string | null;
  cancelRequested: boolean;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  createTime: Date;
  updateTime: Date;
}

/** One chunk of an operation's results; `op` is the operation's `_id`, `items` JSON text
 *  (handler-owned, like the operation's other JSON fields). */
export interface OperationResultDoc {
  _id: string;
  op: string;
  chunk: number;
  items: string;
}

/** Copies only the two Status fields, whatever else the object carries. */
export const copyStatus = (s: StatusRecord): StatusRecord => ({ code: s.code, message: s.message });

export const copyPoly = (p: PolyRecord): PolyRecord => ({
  vertices: p.vertices.map(({ x, y }) => ({ x, y })),
  normalized: p.normalized,
});

export const scopedId = (project: string, location: string, id: string) => `${project}/${location}/${id}`;
export const imageId = (project: string, location: string, productId: string, id: string) => `${project}/${location}/${productId}/${id}`;
export const membershipId = (project: string, location: string, setId: string, productId: string) =>
  `${project}/${location}/${setId}/${productId}`;
/** Project-level operations get an empty location segment, never a valid location. */
export const operationId = (project: string, location: string | null, id: string) => `${project}/${location ?? ''}/${id}`;

export function productSetFromDoc(d: CatalogDoc): ProductSetRecord {
  return {
    project: d.project,
    location: d.location,
    id: d.id,
    displayName: d.displayName,
    createTime: d.createTime,
    updateTime: d.updateTime,
  };
}

export function productSetToDoc(rec: ProductSetRecord): ProductSetDoc {
  return { _id: scopedId(rec.project, rec.location, rec.id), ...productSetFromDoc({ ...rec, _id: '' }) };
}

export function productToDoc(rec: ProductRecord): ProductDoc {
  return { _id: scopedId(rec.project, rec.location, rec.id), ...productFromDoc({ ...rec, _id: '' }) };
}

export function productFromDoc(d: ProductDoc): ProductRecord {
  return {
    ...productSetFromDoc(d),
    description: d.description,
    productCategory: d.productCategory,
    labels: d.labels.map(({ key, value }) => ({ key, value })),
  };
}

/** A fresh copy at offset 0: the driver's bytes are a view into the reply buffer (which
 *  would stay alive), and callers view embeddings as Float32Array, which needs alignment. */
const bytes = (b: Binary): Uint8Array => new Uint8Array(b.read(0, b.length()));

export function regionsToDocs(regions: RegionRecord[]): RegionDoc[] {
  return regions.map((r) => {
    const d: RegionDoc = { box: r.box, source: r.source };
    if (r.code) d.code = new Binary(r.code);
    if (r.embedding) d.embedding = new Binary(r.embedding);
    if (r.compact) d.compact = new Binary(r.compact);
    return d;
  });
}

function regionFromDoc(d: RegionDoc): RegionRecord {
  const r: RegionRecord = { box: { x0: d.box.x0, y0: d.box.y0, x1: d.box.x1, y1: d.box.y1 }, source: d.source };
  if (d.code) r.code = bytes(d.code);
  if (d.embedding) r.embedding = bytes(d.embedding);
  if (d.compact) r.compact = bytes(d.compact);
  return r;
}

export function referenceImageToDoc(rec: ReferenceImageRecord): ReferenceImageDoc {
  return {
    _id: imageId(rec.project, rec.location, rec.productId, rec.id),
    project: rec.project,
    location: rec.location,
    productId: rec.productId,
    id: rec.id,
    uri: rec.uri,
    boundingPolys: rec.boundingPolys.map(copyPoly),
    createTime: rec.createTime,
    state: rec.state,
    error: rec.error ? copyStatus(rec.error) : null,
    regions: regionsToDocs(rec.regions),
  };
}

export function referenceImageFromDoc(d: ReferenceImageDoc): ReferenceImageRecord {
  const rec: ReferenceImageRecord = {
    project: d.project,
    location: d.location,
    productId: d.productId,
    id: d.id,
    uri: d.uri,
    boundingPolys: d.boundingPolys.map(copyPoly),
    createTime: d.createTime,
    state: d.state,
    regions: d.regions.map(regionFromDoc),
  };
  if (d.error) rec.error = copyStatus(d.error);
  return rec;
}

export const toJson = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
const fromJson = (s: string | null): unknown => (s === null ? undefined : (JSON.parse(s) as unknown));

export function operationToDoc(rec: OperationRecord): OperationDoc {
  return {
    _id: operationId(rec.project, rec.location, rec.id),
    project: rec.project,
    location: rec.location,
    id: rec.id,
    kind: rec.kind,
    request: toJson(rec.request),
    done: rec.done,
    metadata: toJson(rec.metadata),
    response: toJson(rec.response),
    error: rec.error ? copyStatus(rec.error) : null,
    checkpoint: toJson(rec.checkpoint),
    cancelRequested: rec.cancelRequested,
    leaseOwner: rec.leaseOwner ?? null,
    leaseUntil: rec.leaseUntil ?? null,
    createTime: rec.createTime,
    updateTime: rec.updateTime,
  };
}

export function operationFromDoc(d: OperationDoc): OperationRecord {
  const rec: OperationRecord = {
    project: d.project,
    location: d.location ?? null,
    id: d.id,
    kind: d.kind,
    request: fromJson(d.request),
    done: d.done,
    metadata: fromJson(d.metadata),
    cancelRequested: d.cancelRequested,
    createTime: d.createTime,
    updateTime: d.updateTime,
  };
  if (d.response !== null) rec.response = fromJson(d.response);
  if (d.error) rec.error = copyStatus(d.error);
  if (d.checkpoint !== null) rec.checkpoint = fromJson(d.checkpoint);
  if (d.leaseOwner !== null) rec.leaseOwner = d.leaseOwner;
  if (d.leaseUntil !== null) rec.leaseUntil = d.leaseUntil;
  return rec;
}

/** An index change; `_id` is its seq. `productId` is absent for a change of the set itself. */
export interface IndexChangeDoc {
  _id: number;
  project: string;
  location: string;
  setId: string;
  productId?: string;
  time: Date;
}

/** The one document of indexFeed: the feed's identity and the last seq handed out. */
export interface IndexFeedDoc {
  _id: 'feed';
  feedId: string;
  seq: number;
}
