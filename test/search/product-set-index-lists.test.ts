/** A large product set searched through coarse lists (METAPIXEL_COARSE_LISTS_FROM), at a small scale. */
import path from 'node:path';
import { CompactEmbeddingCodec } from '../../src/search/compact-embedding';
import { ItqHasher, SeededRandom } from '../../src/search/hasher';
import { readItqParams, type ItqParams } from '../../src/search/hasher/itq-params';
import { ProductSetIndex, type CoarseListSettings, type IndexedProduct, type QueryVector } from '../../src/search/product-set-index';

const HASHING = path.resolve(__dirname, '..', '..', 'models', 'hashing');
const EVERY = { key: 'every', accept: () => true };
let basis: ItqParams;
let params: ItqParams;
beforeAll(async () => {
  basis = await readItqParams(HASHING, 256);
  params = await readItqParams(HASHING, 128);
});

/** 200 products of 3 embeddings each, around 20 themes (as catalogs cluster). */
function catalog(): Float32Array[][] {
  const rng = new SeededRandom(11);
  const n = basis.dims;
  const unit = (v: Float32Array) => {
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  };
  const themes = Array.from({ length: 20 }, () => Float32Array.from({ length: n }, () => rng.gaussian()));
  return Array.from({ length: 200 }, (_, p) => {
    const centre = themes[p % 20].map((v) => v + 0.8 * rng.gaussian());
    return Array.from({ length: 3 }, () => unit(centre.map((v) => v + 0.5 * rng.gaussian())));
  });
}

function product(p: number): IndexedProduct {
  return { project: 'p', location: 'l', id: `p${p}`, displayName: '', description: '', productCategory: 'general-v1', labels: [] };
}

function build(embeddings: Float32Array[][], coarse?: CoarseListSettings): ProductSetIndex {
  const codec = new CompactEmbeddingCodec(basis, [params]);
  const index = new ProductSetIndex(new ItqHasher(params), codec, 0, coarse);
  embeddings.forEach((regions, p) =>
    index.upsertProduct(
      product(p),
      regions.map((x, r) => ({ imageId: `i${r}`, source: 'whole-image' as const, compact: codec.encode(x) })),
    ),
  );
  index.trim(); // as a full build ends: the lists are trained on every region
  return index;
}

const answer = (index: ProductSetIndex, q: QueryVector[]) =>
  index.searchProducts(q, 10, EVERY).map((h) => [h.region.productId, h.similarity.toFixed(6)]);

describe('coarse lists in a product set', () => {
  it('switch on past `from`, and answer as the exact scan when every list is probed', () => {
    const embeddings = catalog();
    const exact = build(embeddings);
    const lists = build(embeddings, { from: 400, probeShare: 1 });
    expect(exact.engineName).toBe('scan');
    expect(lists.engineName).toBe('lists');
    for (let p = 0; p < 200; p += 9) {
      const q = [
        { embedding: embeddings[p][1], penalty: 0 },
        { embedding: embeddings[(p + 7) % 200][0], penalty: 0.04 },
      ];
      expect(answer(lists, q)).toEqual(answer(exact, q));
    }
  });

  it('probing few lists, a query equal to an indexed region still finds its product first (its own list is probed first)', () => {
    const embeddings = catalog();
    const lists = build(embeddings, { from: 400, probeShare: 0.05 });
    expect(lists.engineName).toBe('lists');
    for (let p = 0; p < 200; p += 3) {
      const [best] = lists.searchProducts([{ embedding: embeddings[p][2], penalty: 0 }], 1, EVERY);
      expect(best.region.productId).toBe(`p${p}`);
      expect(best.similarity).toBeGreaterThan(0.98);
    }
  });

  it('go back to the exact scan once the set shrinks well below `from`, and are trained again from a snapshot', () => {
    const embeddings = catalog();
    const codec = new CompactEmbeddingCodec(basis, [params]);
    const lists = build(embeddings, { from: 400, probeShare: 0.25 });
    const restored = ProductSetIndex.fromState(new ItqHasher(params), codec, lists.toState(), { from: 400, probeShare: 0.25 });
    expect(restored.engineName).toBe('lists');
    for (let p = 0; p < 200; p += 11) {
      const q = [{ embedding: embeddings[p][0], penalty: 0 }];
      expect(answer(restored, q)).toEqual(answer(lists, q));
    }
    for (let p = 0; p < 110; p++) lists.removeProduct(`p${p}`);
    expect(lists.size).toBe(270);
    expect(lists.engineName).toBe('scan');
    const [best] = lists.searchProducts([{ embedding: embeddings[150][1], penalty: 0 }], 1, EVERY);
    expect(best.region.productId).toBe('p150');
  });

  it('a set grown by writes takes them at `from` itself, as a build does; a bulk load trains them once, at trim', () => {
    const embeddings = catalog();
    const codec = new CompactEmbeddingCodec(basis, [params]);
    const grown = new ProductSetIndex(new ItqHasher(params), codec, 0, { from: 402, probeShare: 0.25 });
    const bulk = new ProductSetIndex(new ItqHasher(params), codec, 0, { from: 402, probeShare: 0.25 });
    bulk.startBulkLoad();
    embeddings.forEach((regions, p) => {
      for (const index of [grown, bulk])
        index.upsertProduct(
          product(p),
          regions.map((x, r) => ({ imageId: `i${r}`, source: 'whole-image' as const, compact: codec.encode(x) })),
        );
      if (p === 132) expect(grown.engineName).toBe('scan'); // 399 regions
      if (p === 133) expect(grown.engineName).toBe('lists'); // 402
    });
    expect(bulk.engineName).toBe('scan');
    bulk.trim();
    expect(bulk.engineName).toBe('lists');
  });

  it('are never used with `from` 0', () => {
    expect(build(catalog(), { from: 0, probeShare: 0.25 }).engineName).toBe('scan');
  });
});
