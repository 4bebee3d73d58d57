/** A large product set searched through coarse lists (METAPIXEL_COARSE_LISTS_FROM), at a small scale. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSetSnapshot, writeSetSnapshot } from '../../src/search/index-snapshot';
import { CompactEmbeddingCodec } from '../../src/search/compact-embedding';
import type { CoarseListIndex } from '../../src/search/coarse-lists';
import { ItqHasher, SeededRandom } from '../../src/search/hasher';
import { readItqParams, type ItqParams } from '../../src/search/hasher/itq-params';
import { ProductSetIndex, type CoarseListSettings, type QueryVector } from '../../src/search/product-set-index';
import { clusteredCatalog, indexedProduct, writeAtRandom } from './support/clustered-catalog';

const HASHING = path.resolve(__dirname, '..', '..', 'models', 'hashing');
const EVERY = { key: 'every', accept: () => true };
let basis: ItqParams;
let params: ItqParams;
beforeAll(async () => {
  basis = await readItqParams(HASHING, 256);
  params = await readItqParams(HASHING, 128);
});

/** 200 products of 3 embeddings each, around 20 themes. */
const catalog = () => clusteredCatalog(basis.dims, 200, 20, 11);

/** Product p with these embeddings as its whole-image regions. */
function put(index: ProductSetIndex, codec: CompactEmbeddingCodec, p: number, regions: Float32Array[]): void {
  index.upsertProduct(
    indexedProduct(p),
    regions.map((x, r) => ({ imageId: `i${r}`, source: 'whole-image' as const, compact: codec.encode(x) })),
  );
}

function build(embeddings: Float32Array[][], coarse?: CoarseListSettings): ProductSetIndex {
  const codec = new CompactEmbeddingCodec(basis, [params]);
  const index = new ProductSetIndex(new ItqHasher(params), codec, 0, coarse);
  embeddings.forEach((regions, p) => put(index, codec, p, regions));
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

  it('a secondary query region takes a quarter of the candidates and of the lists; its own product still comes first', () => {
    const embeddings = catalog();
    const lists = build(embeddings, { from: 400, probeShare: 0.5 });
    const engine = (lists as unknown as { engine: CoarseListIndex }).engine;
    const probed = (q: QueryVector[]) => {
      engine.resetStats();
      const hits = lists.searchProducts(q, 10, EVERY);
      return { hits, lists: engine.stats.bucketsProbed, checked: engine.stats.candidatesChecked };
    };
    for (let p = 0; p < 200; p += 13) {
      const primary = probed([{ embedding: embeddings[p][1], penalty: 0.04 }]);
      const secondary = probed([{ embedding: embeddings[p][1], penalty: 0.04, secondary: true }]);
      // 600 regions: 16 lists, 8 probed by a region and 2 by a secondary one.
      expect([primary.lists, secondary.lists]).toEqual([8, 2]);
      expect(secondary.checked).toBeLessThan(primary.checked);
      expect(secondary.hits[0].region.productId).toBe(`p${p}`);
      expect(secondary.hits[0].similarity).toBeCloseTo(primary.hits[0].similarity, 6);
      // Fewer candidates (50 of 200): it reaches fewer products.
      expect(secondary.hits.length).toBeLessThanOrEqual(primary.hits.length);
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
      for (const index of [grown, bulk]) put(index, codec, p, regions);
      if (p === 132) expect(grown.engineName).toBe('scan'); // 399 regions
      if (p === 133) expect(grown.engineName).toBe('lists'); // 402
    });
    expect(bulk.engineName).toBe('scan');
    bulk.trim();
    expect(bulk.engineName).toBe('lists');
  });

  it('a large set fills its new engine in the background: the old one answers, writes meanwhile reach both, and it ends as a filling at once does', async () => {
    const embeddings = catalog();
    const codec = new CompactEmbeddingCodec(basis, [params]);
    // The same writes to a set filled in the background (64 rows a turn) and to one filled
    // at once: rows are numbered alike, so their answers must be identical.
    const grown = new ProductSetIndex(new ItqHasher(params), codec, 0, {
      from: 402,
      probeShare: 1,
      backgroundFrom: 300,
      backgroundChunk: 64,
    });
    const sync = new ProductSetIndex(new ItqHasher(params), codec, 0, { from: 402, probeShare: 1, backgroundFrom: 1e9 });
    const add = (p: number, regions = embeddings[p]) => {
      for (const index of [grown, sync]) put(index, codec, p, regions);
    };
    const remove = (p: number) => [grown, sync].forEach((index) => index.removeProduct(`p${p}`));
    const q = (p: number): QueryVector[] => [{ embedding: embeddings[p][1], penalty: 0 }];
    for (let p = 0; p < 134; p++) add(p); // 402 regions: the switch starts
    expect(sync.engineName).toBe('lists');
    // Writes between the fill's turns, so some rows are behind it and some ahead: adds,
    // removes, replacements (whose freed rows are reused), while the old scan answers.
    const rng = new SeededRandom(3);
    let next = 134;
    let scanned = 0;
    // (Turns enough for every phase of the fill: training, counting each list's rows, filing.)
    for (let t = 0; t < 22; t++) {
      if (grown.engineName === 'scan') scanned++;
      if (t === 1) {
        // A turn into the fill (it is training): a snapshot taken now has no lists.
        expect(grown.toState().lists).toBeUndefined();
        expect(grown.engineChangedSinceState).toBe(false);
      }
      expect(answer(grown, q(0))).toHaveLength(10);
      for (let w = 0; w < 6; w++) next = writeAtRandom(rng, embeddings, next, add, remove);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(scanned).toBeGreaterThanOrEqual(20); // the fill took that many turns at least
    await grown.engineSettled();
    expect(grown.engineName).toBe('lists');
    // So the catalog writes the set's snapshot again, now with its lists.
    expect(grown.engineChangedSinceState).toBe(true);
    expect(grown.toState().lists).toBeDefined();
    expect(grown.engineChangedSinceState).toBe(false);
    expect(grown.size).toBe(sync.size);
    for (let p = 0; p < 200; p += 3) expect(answer(grown, q(p))).toEqual(answer(sync, q(p)));
    // Each row is filed in the list nearest its vector as it is now, though the lists' sizes
    // were counted before the filing and rows were written again meanwhile.
    const engine = (grown as unknown as { engine: CoarseListIndex }).engine;
    const rows = grown.toState().products.flatMap((entry) => entry.rows);
    expect(rows.map((row) => engine.listOfId(row))).toEqual([...engine.listsOf(rows, new Uint16Array(rows.length))]);
  });

  it('a snapshot keeps the lists: a restart files each row where it was, with the same centroids, through a file too', async () => {
    const embeddings = catalog();
    const codec = new CompactEmbeddingCodec(basis, [params]);
    const settings = { from: 300, probeShare: 0.125 };
    // Trained at 300 regions, then grown by writes (no retraining below 4×): lists trained
    // again on the grown set would differ.
    const grown = new ProductSetIndex(new ItqHasher(params), codec, 0, settings);
    embeddings.forEach((regions, p) => put(grown, codec, p, regions));
    grown.removeProduct('p5');
    const state = grown.toState();
    expect(state.lists?.trainedAt).toBe(300);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mpx-lists-'));
    const file = await writeSetSnapshot(dir, 'p/l/s', { scope: { project: 'p', location: 'l' }, setId: 's', state }, 'f');
    const back = (await readSetSnapshot(dir, file, 'f')).state;
    expect(back.lists).toEqual(state.lists);
    const kept = ProductSetIndex.fromState(new ItqHasher(params), codec, back, settings);
    const retrained = ProductSetIndex.fromState(new ItqHasher(params), codec, { ...grown.toState(), lists: undefined }, settings);
    expect(kept.toState().lists).toEqual(state.lists);
    expect(retrained.toState().lists!.centroids).not.toEqual(state.lists!.centroids);
    const rng = new SeededRandom(8);
    for (let p = 0; p < 200; p += 3) {
      const q = [{ embedding: embeddings[p][0].map((v) => v + 0.3 * rng.gaussian()), penalty: 0 }];
      expect(answer(kept, q)).toEqual(answer(grown, q));
    }
    // Lists of another shape than the set's (a row count that differs) are trained again.
    const other = ProductSetIndex.fromState(
      new ItqHasher(params),
      codec,
      { ...grown.toState(), lists: { ...state.lists!, listOfRow: new Uint16Array(3) } },
      settings,
    );
    expect(other.engineName).toBe('lists');
    expect(other.toState().lists!.centroids).toEqual(retrained.toState().lists!.centroids);
  });

  it('engineSettled waits for a fill that another fill started at its end (the set shrank meanwhile)', async () => {
    const embeddings = catalog();
    const codec = new CompactEmbeddingCodec(basis, [params]);
    const index = new ProductSetIndex(new ItqHasher(params), codec, 0, {
      from: 402,
      probeShare: 1,
      backgroundFrom: 100,
      backgroundChunk: 32,
    });
    embeddings.slice(0, 134).forEach((regions, p) => put(index, codec, p, regions));
    await new Promise((resolve) => setImmediate(resolve)); // the switch to lists has begun
    for (let p = 0; p < 40; p++) index.removeProduct(`p${p}`); // 282 regions: below 402 / 1.25
    await index.engineSettled();
    expect(index.engineName).toBe('scan');
    expect(index.toState().lists).toBeUndefined();
  });

  it('a snapshot files each row in the list it names, not the nearest (the column is used, not recomputed)', () => {
    const embeddings = catalog();
    const codec = new CompactEmbeddingCodec(basis, [params]);
    const settings = { from: 300, probeShare: 0.25 };
    const lists = build(embeddings, settings);
    const state = lists.toState();
    const row = state.products[7].rows[0];
    const moved = (state.lists!.listOfRow[row] + 1) % (state.lists!.centroids.length / 32);
    state.lists!.listOfRow[row] = moved;
    const restored = ProductSetIndex.fromState(new ItqHasher(params), codec, state, settings);
    expect(restored.toState().lists!.listOfRow[row]).toBe(moved);
  });

  it('are never used with `from` 0', () => {
    expect(build(catalog(), { from: 0, probeShare: 0.25 }).engineName).toBe('scan');
  });
});
