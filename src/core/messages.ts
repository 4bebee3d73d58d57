/**
 * The proto message shapes the core reads and returns: field names as the Vision protos
 * define them (lowerCamelCase), enums as names, Timestamps as {seconds, nanos}. Both
 * adapters produce and consume exactly these shapes, so they are the core's API contract.
 */
export interface Timestamp {
  seconds: string;
  nanos: number;
}
export interface VertexMsg {
  x: number;
  y: number;
}
export interface NormalizedVertexMsg {
  x: number;
  y: number;
}
export interface BoundingPolyMsg {
  vertices?: VertexMsg[];
  normalizedVertices?: NormalizedVertexMsg[];
}

type Box = { x0: number; y0: number; x1: number; y1: number };

/** A box's four corners, clockwise from the top-left, as Google answers. */
const corners = (b: Box) => [
  { x: b.x0, y: b.y0 },
  { x: b.x1, y: b.y0 },
  { x: b.x1, y: b.y1 },
  { x: b.x0, y: b.y1 },
];

/** A normalized box as four normalized vertices. */
export function boxPolygon(b: Box): { normalizedVertices: NormalizedVertexMsg[] } {
  return { normalizedVertices: corners(b) };
}

/** A pixel box as four vertices (as ReferenceImage lists the regions the server chose). */
export function pixelBoxPolygon(b: Box): { vertices: VertexMsg[] } {
  return { vertices: corners(b) };
}

export interface KeyValueMsg {
  key: string;
  value: string;
}
export interface StatusMsg {
  code: number;
  message: string;
}
export interface ProductSetMsg {
  name?: string;
  displayName?: string;
  indexTime?: Timestamp | null;
  indexError?: StatusMsg | null;
}
export interface ProductMsg {
  name?: string;
  displayName?: string;
  description?: string;
  productCategory?: string;
  productLabels?: KeyValueMsg[];
}
export interface ReferenceImageMsg {
  name?: string;
  uri?: string;
  boundingPolys?: BoundingPolyMsg[];
}
export interface FieldMaskMsg {
  paths?: string[];
}
export interface ListRequest {
  parent?: string;
  name?: string;
  pageSize?: number;
  pageToken?: string;
}

export function toTimestamp(d: Date): Timestamp {
  const ms = d.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1e6 };
}
