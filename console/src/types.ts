/** The REST API's JSON shapes the console reads (proto3 JSON, lowerCamelCase). */
export interface Vertex {
  x?: number;
  y?: number;
}
export interface BoundingPoly {
  vertices?: Vertex[];
  normalizedVertices?: Vertex[];
}
export interface ProductSet {
  name: string;
  displayName: string;
  indexTime?: string;
}
export interface KeyValue {
  key: string;
  value: string;
}
export interface Product {
  name: string;
  displayName: string;
  description?: string;
  productCategory: string;
  productLabels?: KeyValue[];
}
export interface ReferenceImage {
  name: string;
  uri: string;
  boundingPolys?: BoundingPoly[];
}
export interface SearchResult {
  product: Product;
  score: number;
  image: string;
}
export interface LocalizedObject {
  mid?: string;
  name: string;
  score: number;
  boundingPoly: BoundingPoly;
}
export interface GroupedResult {
  boundingPoly: BoundingPoly;
  results?: SearchResult[];
  objectAnnotations?: { name: string; score: number }[];
}
export interface AnnotateImageResponse {
  localizedObjectAnnotations?: LocalizedObject[];
  productSearchResults?: { indexTime?: string; results?: SearchResult[]; productGroupedResults?: GroupedResult[] };
  error?: { code: number; message: string };
}
export interface Operation {
  name: string;
  done?: boolean;
  metadata?: { '@type'?: string; state?: string; submitTime?: string; endTime?: string };
  error?: { code: number; message: string };
  response?: { '@type'?: string; referenceImages?: ReferenceImage[]; statuses?: { code?: number; message?: string }[] };
}
export interface OperationProgress {
  name: string;
  kind: string;
  state: string;
  done: boolean;
  totalLines: string;
  totalKnown: boolean;
  processedLines: string;
  succeededLines: string;
  failedLines: string;
  createTime?: string;
  updateTime?: string;
  error?: { code: number; message: string } | null;
}

export const CATEGORIES = ['general-v1', 'apparel-v2', 'homegoods-v2', 'toys-v2', 'packagedgoods-v1'];

/** docs/search.md: a reported score at or above 0.5 is a match (src/search/score-scale.ts). */
export const MATCH_SCORE = 0.5;

/** metapixel.v1.MatchExplainer's answer (protos/metapixel/v1/explain.proto). */
export interface Explained {
  /** As proto3 JSON: a zero index or similarity is left out. */
  regions?: { boundingPoly: BoundingPoly; index?: number; source: string; similarity?: number }[];
  queryRegion: BoundingPoly;
}
