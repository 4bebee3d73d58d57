/** A product set large enough for the SIMD re-rank (CompactColumns from SIMD_FROM_BYTES)
 *  against the same set re-ranked in JS: the same answers, through a snapshot state too. */
import path from 'node:path';
import { CompactEmbeddingCodec, SIMD_FROM_BYTES } from '../../src/search/compact-embedding';
import { ItqHasher, SeededRandom } from '../../src/search/hasher';
import { readItqParams, type ItqParams } from '../../src/search/hasher/itq-params';
import { ProductSetIndex, type IndexedProduct, type QueryVector } from '../../src/search/product-set-index';

const HASHING = path.resolve(__dirname, '..', '..', 'models', 'hashing');
const EVERY = { key: 'every', accept: () => true };
const PRODUCTS = Math.ceil(SIMD_FROM_BYTES / 256 / 3) + 300;
let basis: ItqParams;
let params: ItqParams;
let embeddings: Float32Array[][];

beforeAll(async () => {
  basis = await readItqParams(HASHING, 256);
  params = await readItqParams(HASHING, 128);
  const rng = new SeededRandom(21);
  const unit = (v: Float32Array) => {
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  };
  const themes = Array.from({ length: 40 }, () => Float32Array.from({ length: basis.dims }, () => rng.gaussian()));
  embeddings = Array.from({ length: PRODUCTS }, (_, p) => {
    const centre = themes[p % 40].map((v) => v + 0.8 * rng.gaussian());
    return Array.from({ length: 3 }, () => unit(centre.map((v) => v + 0.5 * rng.gaussian())));
  });
});

function build(simd: boolean): ProductSetIndex {
  // One encoding for both (the JS and SIMD projections round a few int8 values apart).
  const encoder = new CompactEmbeddingCodec(basis, [params]);
  const codec = simd ? encoder : new CompactEmbeddingCodec(basis, [params], { simd: false });
  const index = new ProductSetIndex(new ItqHasher(params), codec, 0);
  embeddings.forEach((regions, p) => {
    const product: IndexedProduct = {
      project: 'p',
      location: 'l',
      id: `p${p}`,
      displayName: '',
      description: '',
      productCategory: 'general-v1',
      labels: [],
    };
    index.upsertProduct(
      product,
      regions.map((x, r) => ({
        imageId: `i${r}`,
        source: r ? ('detected' as const) : ('whole-image' as const),
        compact: encoder.encode(x),
      })),
    );
  });
  return index;
}

it('answers as the JS re-rank, with contrast and local scaling, and after a snapshot state round trip', () => {
  const simd = build(true);
  const js = build(false);
  const codec = new CompactEmbeddingCodec(basis, [params]);
  const restored = ProductSetIndex.fromState(new ItqHasher(params), codec, simd.toState());
  const rng = new SeededRandom(5);
  const contrast = { context: [1, 2, 3], weight: 0.25, pool: 20, fullBelow: 0.85 };
  const scaling = { rank: 3, weight: 0.25, typical: 0.56, fullBelow: 0.85 };
  let compared = 0;
  for (let p = 0; p < PRODUCTS; p += 97) {
    const noisy = (x: Float32Array) => x.map((v) => v + 0.01 * rng.gaussian());
    const q: QueryVector[] = [0, 1, 2, 3].map((i) => ({
      embedding: noisy(embeddings[(p + i * 13) % PRODUCTS][i % 3]),
      penalty: i ? 0.04 : 0,
    }));
    const a = simd.searchProducts(q, 10, EVERY, contrast, scaling);
    const b = js.searchProducts(q, 10, EVERY, contrast, scaling);
    const c = restored.searchProducts(q, 10, EVERY, contrast, scaling);
    expect(a[0].region.productId).toBe(`p${p}`);
    // The int16 query moves scores by less than 1e-4; products closer than that may swap.
    const byId = new Map(b.map((h) => [h.region.productId, h.similarity]));
    for (const h of a) if (byId.has(h.region.productId)) expect(Math.abs(h.similarity - byId.get(h.region.productId)!)).toBeLessThan(1e-4);
    expect(a.map((h) => h.region.productId).slice(0, 3)).toEqual(b.map((h) => h.region.productId).slice(0, 3));
    expect(c).toEqual(a);
    compared++;
  }
  expect(compared).toBeGreaterThan(10);
});
