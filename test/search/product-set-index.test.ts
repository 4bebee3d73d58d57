/** ProductSetIndex: Hamming candidates, filter inside the scan, cosine re-rank. */
import { ProductSetIndex, type IndexedRegion } from '../../src/search/product-set-index';
import { RandomProjectionHasher, SeededRandom } from '../../src/search/hasher';
import type { ProductRecord } from '../../src/store/catalog-store';

const DIMS = 32;
const rng = new SeededRandom(7);
const unit = () => {
  const v = Float32Array.from({ length: DIMS }, () => rng.gaussian());
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const hasher = new RandomProjectionHasher(128, DIMS, 3);
const product = (id: string, color: string): ProductRecord => ({
  project: 'p', location: 'l', id, displayName: id, description: '', productCategory: 'general-v1',
  labels: [{ key: 'color', value: color }], createTime: new Date(0), updateTime: new Date(0),
});

function build(nProducts: number, perProduct: number) {
  const index = new ProductSetIndex(hasher);
  const all: IndexedRegion[] = [];
  for (let p = 0; p < nProducts; p++) {
    const regions = Array.from({ length: perProduct }, (_, r) => {
      const embedding = unit();
      return { productId: `p${p}`, imageId: `i${r}`, embedding, code: hasher.encode(embedding) };
    });
    all.push(...regions);
    index.addProduct(product(`p${p}`, p % 2 ? 'red' : 'blue'), regions);
  }
  return { index: index.seal(), all };
}

const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

test('on a set smaller than the candidate pool, results equal brute-force cosine', () => {
  const { index, all } = build(30, 3);
  for (let q = 0; q < 20; q++) {
    const query = unit();
    const best = new Map<string, number>();
    for (const r of all) best.set(r.productId, Math.max(best.get(r.productId) ?? -2, cos(query, r.embedding)));
    const expected = [...best.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5).map(([id]) => id);
    expect(index.searchProducts(query, 5, () => true).map((h) => h.region.productId)).toEqual(expected);
  }
});

test('a region\'s own embedding finds its product first with similarity 1', () => {
  const { index, all } = build(50, 2);
  const hit = index.searchProducts(all[37].embedding, 3, () => true)[0];
  expect(hit.region.productId).toBe(all[37].productId);
  expect(hit.similarity).toBeCloseTo(1, 5);
});

test('the label filter works inside the scan: only accepted products, still k of them', () => {
  const { index, all } = build(40, 2);
  const red = index.searchProducts(all[0].embedding, 10, (labels) => labels.some((l) => l.value === 'red'));
  expect(red).toHaveLength(10);
  expect(red.every((h) => Number(h.region.productId.slice(1)) % 2 === 1)).toBe(true);
});

test('an index must be sealed before search and is read-only after', () => {
  const index = new ProductSetIndex(hasher);
  expect(() => index.searchProducts(unit(), 1, () => true)).toThrow(/not sealed/);
  index.seal();
  expect(index.searchProducts(unit(), 3, () => true)).toEqual([]);
  expect(() => index.addProduct(product('x', 'red'), [])).toThrow(/sealed/);
});
