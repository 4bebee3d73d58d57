/**
 * Record builders and names for the store contract suites. Fixtures are small on
 * purpose: the MongoDB run goes through jongodb, which scans (tens of docs, not thousands).
 */
import type { LocationName, OperationName, ProductName, ProductSetName, ReferenceImageName } from '../../../src/core/names';
import type { CatalogStore, ProductRecord, ProductSetRecord, ReferenceImageRecord } from '../../../src/store/catalog-store';
import type { OperationRecord } from '../../../src/store/operation-store';

/** Odd milliseconds on purpose: a store that rounds to seconds fails the round-trips. */
export const T0 = new Date('2024-05-06T07:08:09.123Z');
export const at = (ms: number) => new Date(T0.getTime() + ms);

export const A: LocationName = { project: 'p1', location: 'us-east1' };
/** Same project, other location. */
export const B: LocationName = { project: 'p1', location: 'europe-west1' };
/** A project whose name has A's as a prefix: catches prefix-range scans. */
export const C: LocationName = { project: 'p10', location: 'us-east1' };

export const setName = (s: LocationName, id: string): ProductSetName => ({ ...s, productSet: id });
export const productName = (s: LocationName, id: string): ProductName => ({ ...s, product: id });
export const imageName = (s: LocationName, productId: string, id: string): ReferenceImageName => ({
  ...s,
  product: productId,
  referenceImage: id,
});
export const opName = (project: string, location: string | null, id: string): OperationName => ({
  project,
  location,
  operation: id,
});

export function productSet(s: LocationName, id: string, over: Partial<ProductSetRecord> = {}): ProductSetRecord {
  return { ...s, id, displayName: `set ${id}`, createTime: at(1), updateTime: at(2), ...over };
}

export function product(s: LocationName, id: string, over: Partial<ProductRecord> = {}): ProductRecord {
  return {
    ...s,
    id,
    displayName: `product ${id}`,
    description: `about ${id}`,
    productCategory: 'apparel-v2',
    labels: [
      { key: 'color', value: 'red' },
      { key: 'style', value: 'casual' },
    ],
    createTime: at(3),
    updateTime: at(4),
    ...over,
  };
}

export function image(s: LocationName, productId: string, id: string, over: Partial<ReferenceImageRecord> = {}): ReferenceImageRecord {
  return {
    ...s,
    productId,
    id,
    uri: `gs://bucket/${productId}/${id}.jpg`,
    boundingPolys: [],
    createTime: at(5),
    state: 'PENDING',
    regions: [],
    ...over,
  };
}

export function operation(project: string, location: string | null, id: string, over: Partial<OperationRecord> = {}): OperationRecord {
  return {
    project,
    location,
    id,
    kind: 'import-product-sets',
    request: { parent: `projects/${project}`, inputConfig: { gcsSource: { csvFileUri: 'gs://b/x.csv' } } },
    done: false,
    metadata: { state: 'CREATED', submitTime: T0.toISOString() },
    cancelRequested: false,
    createTime: at(6),
    updateTime: at(6),
    ...over,
  };
}

/** Ascending code-point order (what the contract specifies). JS `<` and Array.sort compare
 *  UTF-16 code units, which disagree above U+FFFF, so expectations are built with this. */
export function byCodePoint(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0) ?? 0);
  const y = [...b].map((c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** Ids chosen to trip naive orderings: case, digits, '-' / '_', prefixes, non-ASCII. */
export const TRICKY_IDS = ['b', 'a', 'B', 'a-1', 'a_1', '0', 'Z9', 'a1', 'ä', 'aa'];

/** Seeds one product in `s` per id, with a set holding them all. */
export async function seedProductsInSet(store: CatalogStore, s: LocationName, setId: string, ids: string[]) {
  expect(await store.createProductSet(productSet(s, setId))).toBe(true);
  for (const id of ids) {
    expect(await store.createProduct(product(s, id))).toBe(true);
    await store.addProductToSet(setName(s, setId), id);
  }
}
