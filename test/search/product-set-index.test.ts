/** ProductSetIndex: Hamming candidates, filter inside the scan, cosine re-rank, max over query regions. */
import { indexPenalty, levelScale, ProductSetIndex, taper, type IndexedRegion } from '../../src/search/product-set-index';
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
/** A test region: an IndexedRegion that also says whose it is. */
type Region = IndexedRegion & { productId: string; embedding: Float32Array };
const product = (id: string, color: string): ProductRecord => ({
  project: 'p',
  location: 'l',
  id,
  displayName: id,
  description: '',
  productCategory: 'general-v1',
  labels: [{ key: 'color', value: color }],
  createTime: new Date(0),
  updateTime: new Date(0),
});

function build(nProducts: number, perProduct: number) {
  const index = new ProductSetIndex(hasher);
  const all: Region[] = [];
  for (let p = 0; p < nProducts; p++) {
    const regions = Array.from({ length: perProduct }, (_, r) => {
      const embedding = unit();
      return { productId: `p${p}`, imageId: `i${r}`, embedding, code: hasher.encode(embedding) };
    });
    all.push(...regions);
    index.upsertProduct(product(`p${p}`, p % 2 ? 'red' : 'blue'), regions);
  }
  return { index, all };
}

const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

test('on a set smaller than the candidate pool, results equal brute-force cosine', () => {
  const { index, all } = build(30, 3);
  for (let q = 0; q < 20; q++) {
    const query = unit();
    const best = new Map<string, number>();
    for (const r of all) best.set(r.productId, Math.max(best.get(r.productId) ?? -2, cos(query, r.embedding)));
    const expected = [...best.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 5)
      .map(([id]) => id);
    expect(index.searchProducts(query, 5, () => true).map((h) => h.region.productId)).toEqual(expected);
  }
});

test("a region's own embedding finds its product first with similarity 1", () => {
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

test('an empty index answers nothing; a product without regions is held but never a hit', () => {
  const index = new ProductSetIndex(hasher);
  expect(index.searchProducts(unit(), 3, () => true)).toEqual([]);
  index.upsertProduct(product('x', 'red'), []);
  expect(index.has('x')).toBe(true);
  expect(index.searchProducts(unit(), 3, () => true)).toEqual([]);
});

test("the index keeps its own copy of a product's searchable fields, not the caller's record or its times", () => {
  const index = new ProductSetIndex(hasher);
  const record = product('p1', 'red');
  index.upsertProduct(record, [{ imageId: 'i0', embedding: unit() }]);
  record.labels[0].value = 'changed';
  record.displayName = 'changed';
  expect(index.product('p1')).toEqual({
    project: 'p',
    location: 'l',
    id: 'p1',
    displayName: 'p1',
    description: '',
    productCategory: 'general-v1',
    labels: [{ key: 'color', value: 'red' }],
  });
  index.updateProduct({ ...product('p1', 'blue'), displayName: 'P one' });
  expect(index.product('p1')).toMatchObject({ displayName: 'P one', labels: [{ key: 'color', value: 'blue' }] });
  expect(index.product('p1')).not.toHaveProperty('createTime');
});

test('products with the same labels share one frozen list, which neither the caller nor a later update changes', () => {
  const index = new ProductSetIndex(hasher);
  const mine = product('p2', 'red');
  index.upsertProduct(product('p1', 'red'), [{ imageId: 'i0', embedding: unit() }]);
  index.upsertProduct(mine, [{ imageId: 'i0', embedding: unit() }]);
  index.upsertProduct(product('p3', 'blue'), [{ imageId: 'i0', embedding: unit() }]);
  const [a, b, c] = ['p1', 'p2', 'p3'].map((id) => index.product(id)!.labels);
  expect(a).toBe(b);
  expect(c).not.toBe(a);
  expect(Object.isFrozen(a) && Object.isFrozen(a[0])).toBe(true);
  expect(() => ((a[0] as { value: string }).value = 'green')).toThrow(TypeError);
  mine.labels.push({ key: 'size', value: 'L' });
  index.updateProduct({ ...product('p1', 'blue') });
  expect(index.product('p2')!.labels).toEqual([{ key: 'color', value: 'red' }]);
  expect(index.product('p1')!.labels).toBe(c);
  // Lists that could be confused by a separator stay apart.
  index.upsertProduct({ ...product('p4', 'x'), labels: [{ key: 'a,b', value: 'c' }] }, [{ imageId: 'i0', embedding: unit() }]);
  index.upsertProduct({ ...product('p5', 'x'), labels: [{ key: 'a', value: 'b,c' }] }, [{ imageId: 'i0', embedding: unit() }]);
  expect(index.product('p5')!.labels).toEqual([{ key: 'a', value: 'b,c' }]);
});

describe('changes in place', () => {
  const regionsOf = (id: string, n: number): Region[] =>
    Array.from({ length: n }, (_, r) => {
      const embedding = unit();
      return { productId: id, imageId: `i${r}`, embedding, code: hasher.encode(embedding) };
    });
  /** The same products built from scratch, for comparison. */
  const fresh = (products: Map<string, { color: string; regions: Region[] }>) => {
    const index = new ProductSetIndex(hasher);
    for (const [id, p] of products) index.upsertProduct(product(id, p.color), p.regions);
    return index;
  };

  test('random upserts, removals and label changes answer as an index built from scratch', () => {
    const live = new Map<string, { color: string; regions: Region[] }>();
    const index = new ProductSetIndex(hasher);
    const red = (labels: readonly { value: string }[]) => labels.some((l) => l.value === 'red');
    // Keyed filters whose verdicts the index keeps from the first write on (one accepts
    // everything: the unfiltered scan), and more keys than it keeps (evicted, made again).
    const keyedRed = { key: 'red', accept: red };
    const keyedAll = { key: 'all', accept: () => true };
    const rotating = Array.from({ length: 12 }, (_, i) => ({ key: `red-${i}`, accept: red }));
    for (const f of [keyedRed, keyedAll]) index.searchProducts(unit(), 1, f);
    for (let step = 0; step < 300; step++) {
      const id = `p${Math.floor(rng.next() * 40)}`;
      const roll = rng.next();
      if (roll < 0.5) {
        const p = { color: rng.next() < 0.5 ? 'red' : 'blue', regions: regionsOf(id, 1 + Math.floor(rng.next() * 4)) };
        live.set(id, p);
        index.upsertProduct(product(id, p.color), p.regions);
      } else if (roll < 0.8) {
        expect(index.removeProduct(id)).toBe(live.delete(id));
      } else if (live.has(id)) {
        const p = live.get(id)!;
        p.color = p.color === 'red' ? 'blue' : 'red';
        expect(index.updateProduct(product(id, p.color))).toBe(true);
      }
      if (step % 25 === 24) {
        const rebuilt = fresh(live);
        expect(index.size).toBe(rebuilt.size);
        for (let q = 0; q < 5; q++) {
          const query = unit();
          const expected = rebuilt.searchProducts(query, 8, red);
          expect(index.searchProducts(query, 8, red)).toEqual(expected);
          expect(index.searchProducts(query, 8, keyedRed)).toEqual(expected);
          expect(index.searchProducts(query, 8, rotating[(step + q) % rotating.length])).toEqual(expected);
          expect(index.searchProducts(query, 8, keyedAll)).toEqual(rebuilt.searchProducts(query, 8, () => true));
        }
      }
    }
  });

  test('removed rows are reused: the index does not grow under churn', () => {
    const index = new ProductSetIndex(hasher);
    for (let i = 0; i < 50; i++) index.upsertProduct(product(`p${i}`, 'red'), regionsOf(`p${i}`, 3));
    const bytes = index.memoryBytes;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50; i++) index.upsertProduct(product(`p${i}`, 'red'), regionsOf(`p${i}`, 3));
    }
    expect(index.size).toBe(150);
    expect(index.memoryBytes).toBe(bytes);
  });

  test('a product removed is gone from results; updateProduct of an absent product is false', () => {
    const { index, all } = build(10, 2);
    expect(index.searchProducts(all[4].embedding, 1, () => true)[0].region.productId).toBe('p2');
    index.removeProduct('p2');
    expect(index.searchProducts(all[4].embedding, 10, () => true).map((h) => h.region.productId)).not.toContain('p2');
    expect(index.updateProduct(product('p2', 'red'))).toBe(false);
  });
});

describe('several query regions', () => {
  const { index, all } = build(25, 3);
  // Every third region a server-chosen part of its image, every fifth a thumbnail.
  const partialIndex = new ProductSetIndex(hasher);
  const byProduct = new Map<string, typeof all>();
  for (const r of all) byProduct.set(r.productId, [...(byProduct.get(r.productId) ?? []), r]);
  const marked = all.map((r, i) => ({
    ...r,
    source: i % 3 === 1 ? ('detected' as const) : i % 5 === 2 ? ('thumbnail' as const) : ('whole-image' as const),
  }));
  for (const [id] of byProduct)
    partialIndex.upsertProduct(
      product(id, 'red'),
      marked.filter((r) => r.productId === id),
    );

  const median = (v: number[]) => {
    const s = [...v].sort((a, b) => a - b);
    return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };

  /** Brute force: a product's score is its best (query region, indexed region) pair. */
  function oracle(queries: { embedding: Float32Array; penalty: number }[], regions: typeof marked, k: number) {
    const best = new Map<string, number>();
    for (const q of queries) {
      for (const r of regions) {
        const s = cos(q.embedding, r.embedding) - q.penalty - indexPenalty(r.source);
        best.set(r.productId, Math.max(best.get(r.productId) ?? -9, s));
      }
    }
    return [...best.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, k);
  }

  test('max over query-region x indexed-region pairs, with both penalties, equals brute force', () => {
    for (let t = 0; t < 15; t++) {
      const queries = [
        { embedding: unit(), penalty: 0 },
        { embedding: unit(), penalty: 0.02 },
        { embedding: unit(), penalty: 0.04 },
      ];
      const got = partialIndex.searchProducts(queries, 6, () => true);
      const want = oracle(queries, marked, 6);
      expect(got.map((h) => h.region.productId)).toEqual(want.map(([id]) => id));
      got.forEach((h, i) => expect(h.similarity).toBeCloseTo(want[i][1], 5));
    }
  });

  test("contrast: the best products by pair score, less weight x the median of the context vectors' best similarity with each, equal brute force", () => {
    for (let t = 0; t < 15; t++) {
      // Thumbnails are matched by none of these vectors: left out of the context's best too.
      const queries = Array.from({ length: 6 }, (_, i) => ({ embedding: unit(), penalty: i ? 0.04 : 0, thumbnails: false }));
      // fullBelow 0.3: the best of these random vectors' pairs (cosines up to about 0.6) taper.
      const contrast = { context: [1, 2, 3, 4 + (t % 2)], weight: 0.25, pool: 8, fullBelow: 0.3 };
      const sharp = marked.filter((r) => r.source !== 'thumbnail');
      const pool = oracle(queries, sharp, contrast.pool);
      const want = pool
        .map(([id, score]): [string, number] => {
          const mine = sharp.filter((r) => r.productId === id);
          const bests = contrast.context.map((qi) =>
            Math.max(...mine.map((r) => cos(queries[qi].embedding, r.embedding) - indexPenalty(r.source))),
          );
          const taper = Math.min(1, Math.max(0, (1 - score) / (1 - contrast.fullBelow)));
          return [id, score - contrast.weight * taper * median(bests)];
        })
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, 5);
      const got = partialIndex.searchProducts(queries, 5, () => true, contrast);
      expect(got.map((h) => h.region.productId)).toEqual(want.map(([id]) => id));
      got.forEach((h, i) => expect(h.similarity).toBeCloseTo(want[i][1], 5));
      // Without a context, or with a pool no larger than k, nothing changes.
      expect(partialIndex.searchProducts(queries, 5, () => true, { ...contrast, context: [] })).toEqual(
        partialIndex.searchProducts(queries, 5, () => true),
      );
    }
  });

  test("local scaling: each region's similarities lose weight x its rank-th best product's excess over typical, tapered; with the contrast, equals brute force", () => {
    for (let t = 0; t < 15; t++) {
      const queries = Array.from({ length: 6 }, (_, i) => ({ embedding: unit(), penalty: i ? 0.04 : 0, thumbnails: false }));
      // typical 0.1 and fullBelow 0.3 suit these random vectors (cosines up to about 0.6).
      const scaling = { rank: 2 + (t % 3), weight: 0.35, typical: 0.1, fullBelow: 0.3 };
      const contrast = { context: [1, 2, 3, 4], weight: 0.25, pool: 8, fullBelow: 0.3 };
      const sharp = marked.filter((r) => r.source !== 'thumbnail');
      const taper = (x: number, full: number) => Math.min(1, Math.max(0, (1 - x) / (1 - full)));
      // Per query region and product: its best pair before the region's own penalty.
      const ids = [...new Set(sharp.map((r) => r.productId))];
      const raw = queries.map((q) =>
        ids.map((id) =>
          Math.max(...sharp.filter((r) => r.productId === id).map((r) => cos(q.embedding, r.embedding) - indexPenalty(r.source))),
        ),
      );
      const shifted = raw.map((row, qi) => {
        const level = [...row].sort((a, b) => b - a)[scaling.rank - 1];
        return row.map((b) => {
          const x = b - queries[qi].penalty;
          return b - scaling.weight * (level - scaling.typical) * taper(x, scaling.fullBelow);
        });
      });
      const scored = ids.map((id, p): [string, number] => [id, Math.max(...shifted.map((row, qi) => row[p] - queries[qi].penalty))]);
      const byScore = (a: [string, number], b: [string, number]) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1);
      const scaledOnly = [...scored].sort(byScore).slice(0, 5);
      const got = partialIndex.searchProducts(queries, 5, () => true, undefined, scaling);
      expect(got.map((h) => h.region.productId)).toEqual(scaledOnly.map(([id]) => id));
      got.forEach((h, i) => expect(h.similarity).toBeCloseTo(scaledOnly[i][1], 5));
      const want = [...scored]
        .sort(byScore)
        .slice(0, contrast.pool)
        .map(([id, score]): [string, number] => {
          const p = ids.indexOf(id);
          const context = median(contrast.context.map((qi) => shifted[qi][p]));
          return [id, score - contrast.weight * taper(score, contrast.fullBelow) * context];
        })
        .sort(byScore)
        .slice(0, 5);
      const both = partialIndex.searchProducts(queries, 5, () => true, contrast, scaling);
      expect(both.map((h) => h.region.productId)).toEqual(want.map(([id]) => id));
      both.forEach((h, i) => expect(h.similarity).toBeCloseTo(want[i][1], 5));
    }
  });

  test('local scaling leaves an identical match at 1 and a region that reached fewer products than its rank alone', () => {
    const own = all[4].embedding;
    const scaling = { rank: 3, weight: 0.35, typical: 0, fullBelow: 0.85 };
    const [hit] = index.searchProducts([{ embedding: own, penalty: 0 }], 1, () => true, undefined, scaling);
    expect(hit.region.productId).toBe(all[4].productId);
    expect(hit.similarity).toBeCloseTo(1, 5);
    // Two products in the set: the rank-3 level does not exist, so nothing is scaled.
    const { index: small } = build(2, 2);
    const queries = [{ embedding: unit(), penalty: 0 }];
    expect(small.searchProducts(queries, 2, () => true, undefined, scaling)).toEqual(small.searchProducts(queries, 2, () => true));
  });

  test('a single vector is the same as one region without penalty; the hit says which query region matched', () => {
    const q = all[10].embedding;
    expect(index.searchProducts(q, 5, () => true)).toEqual(index.searchProducts([{ embedding: q, penalty: 0 }], 5, () => true));
    const hits = index.searchProducts(
      [
        { embedding: unit(), penalty: 0.5 },
        { embedding: q, penalty: 0 },
      ],
      1,
      () => true,
    );
    expect(hits[0]).toMatchObject({ query: 1, region: { productId: all[10].productId } });
  });
});

test('local scaling takes the rank-th best reached similarity, as sorting them all would', () => {
  const rng = new SeededRandom(21);
  const scaling = { rank: 3, weight: 0.25, typical: 0.56, fullBelow: 0.85 };
  for (const size of [0, 1, 2, 3, 4, 10, 200]) {
    for (let trial = 0; trial < 20; trial++) {
      // Ties and -Infinity (a NaN similarity, as SlotMaxima keeps it) included.
      const reached = Array.from({ length: size }, () => (rng.next() < 0.05 ? -Infinity : Math.round(rng.next() * 40) / 40));
      const scale = levelScale(reached, 0.04, scaling);
      const sorted = [...reached].sort((a, b) => b - a);
      for (const x of [0.3, 0.6, 0.9, 1]) {
        const want = sorted.length < 3 ? x : x - 0.25 * (sorted[2] + 0.04 - 0.56) * taper(x, 0.85);
        expect(scale(x)).toBe(want);
      }
    }
  }
});
