/**
 * 4-bit re-rank rows for large sets (METAPIXEL_RERANK_4BIT_FROM), at a small scale: a set
 * whose codec keeps int8 rows re-quantizes them when it reaches the threshold, by writes
 * (at once, or in the background for a large set) or in a build, and then answers exactly
 * as an index whose codec keeps 4-bit rows from the start.
 */
import path from 'node:path';
import { CompactEmbeddingCodec, type CompactColumns } from '../../src/search/compact-embedding';
import { ItqHasher, SeededRandom } from '../../src/search/hasher';
import { readItqParams, type ItqParams } from '../../src/search/hasher/itq-params';
import { ProductSetIndex, type QueryVector, type RerankSettings } from '../../src/search/product-set-index';
import { clusteredCatalog, indexedProduct, writeAtRandom } from './support/clustered-catalog';

const HASHING = path.resolve(__dirname, '..', '..', 'models', 'hashing');
const EVERY = { key: 'every', accept: () => true };
let basis: ItqParams;
let params: ItqParams;
let int8: CompactEmbeddingCodec;
let nibbles: CompactEmbeddingCodec;
beforeAll(async () => {
  basis = await readItqParams(HASHING, 256);
  params = await readItqParams(HASHING, 128);
  int8 = new CompactEmbeddingCodec(basis, [params]);
  nibbles = new CompactEmbeddingCodec(basis, [params], { columnBits: 4 });
});

/** 120 products of 3 embeddings each, around 12 themes. */
const catalog = () => clusteredCatalog(basis.dims, 120, 12, 5);

function make(codec: CompactEmbeddingCodec, rerank?: RerankSettings): ProductSetIndex {
  return new ProductSetIndex(new ItqHasher(params), codec, 0, undefined, rerank);
}

/** Product p with these embeddings as its regions (the compact data made by the int8 codec, as the store keeps it). */
function put(index: ProductSetIndex, p: number, regions: Float32Array[]): void {
  index.upsertProduct(
    indexedProduct(p),
    regions.map((x, r) => ({ imageId: `i${r}`, source: 'whole-image' as const, compact: int8.encode(x) })),
  );
}

/** The index's rows as they would be snapshotted: row count, vectors and scalars, bit for bit. */
function rowBits(index: ProductSetIndex): [number, string, string] {
  const s = index.toState();
  const q = Buffer.from(s.compact.q.buffer, s.compact.q.byteOffset, s.rowCount * s.compact.rowBytes);
  const scalars = Buffer.from(s.compact.scalars.buffer, s.compact.scalars.byteOffset, s.rowCount * 8);
  return [s.rowCount, q.toString('base64'), scalars.toString('base64')];
}

const answer = (index: ProductSetIndex, q: QueryVector[]) =>
  index.searchProducts(q, 10, EVERY).map((h) => [h.region.productId, h.similarity]);

describe('4-bit rows from fourBitFrom regions', () => {
  it('a set reaching the threshold by writes re-quantizes at once, as a build does, and answers as a 4-bit index', () => {
    const embeddings = catalog();
    const told: number[] = [];
    const grown = make(int8, { fourBitFrom: 150, onFourBits: (regions) => told.push(regions) });
    const bulk = make(int8, { fourBitFrom: 150 });
    const never = make(int8, { fourBitFrom: 0 });
    const four = make(nibbles);
    bulk.startBulkLoad();
    embeddings.forEach((regions, p) => {
      for (const index of [grown, bulk, never, four]) put(index, p, regions);
      if (p === 48) expect(grown.rerankBits).toBe(8); // 147 regions
      if (p === 49) expect(grown.rerankBits).toBe(4); // 150
    });
    expect(told).toEqual([150]); // once (the server logs it)
    expect(bulk.rerankBits).toBe(4); // crossed during the load, before its trim
    bulk.trim();
    expect(never.rerankBits).toBe(8);
    // Half the vector bytes (136 instead of 264 a row), as a 4-bit index holds, and nothing of the int8 rows.
    expect(grown.memoryBytes).toBe(four.memoryBytes);
    expect(never.memoryBytes - grown.memoryBytes).toBeGreaterThanOrEqual(128 * grown.size);
    const rng = new SeededRandom(9);
    let differs = 0;
    for (let p = 0; p < 120; p += 4) {
      const q: QueryVector[] = [
        { embedding: embeddings[p][Math.floor(rng.next() * 3)], penalty: 0 },
        { embedding: embeddings[(p + 7) % 120][0], penalty: 0.05, secondary: true },
      ];
      const want = answer(four, q);
      expect(want).toHaveLength(10);
      expect(answer(grown, q)).toEqual(want);
      expect(answer(bulk, q)).toEqual(want);
      if (JSON.stringify(answer(never, q)) !== JSON.stringify(want)) differs++;
    }
    expect(differs).toBeGreaterThan(0); // the int8 set scores otherwise: the rows did change
  });

  it('a large set re-quantizes in the background: int8 rows answer meanwhile, writes reach both, and it ends as a re-quantization at once does', async () => {
    const embeddings = catalog();
    // The same writes to a set re-quantized 16 rows a turn and to one re-quantized at once:
    // rows are numbered alike, so their answers must be identical.
    const grown = make(int8, { fourBitFrom: 150, backgroundFrom: 100, backgroundChunk: 16 });
    const sync = make(int8, { fourBitFrom: 150, backgroundFrom: 1e9 });
    const add = (p: number, regions = embeddings[p]) => [grown, sync].forEach((index) => put(index, p, regions));
    const remove = (p: number) => [grown, sync].forEach((index) => index.removeProduct(`p${p}`));
    const q = (p: number): QueryVector[] => [{ embedding: embeddings[p][1], penalty: 0 }];
    for (let p = 0; p < 50; p++) add(p); // 150 regions: it starts
    expect(sync.rerankBits).toBe(4);
    // A snapshot taken during the copy holds the int8 rows; the set is written again after it.
    expect(grown.toState().compact.bits).toBe(8);
    expect(grown.engineChangedSinceState).toBe(false);
    const rng = new SeededRandom(3);
    let next = 50;
    let int8Turns = 0;
    for (let t = 0; t < 14; t++) {
      if (grown.rerankBits === 8) {
        int8Turns++;
        expect(answer(grown, q(0))).toHaveLength(10);
      }
      // Adds (new rows, past the cursor), removes, and replacements whose freed rows are
      // reused (some behind the cursor, some ahead of it).
      for (let w = 0; w < 4; w++) next = writeAtRandom(rng, embeddings, next, add, remove);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(int8Turns).toBeGreaterThanOrEqual(9); // 150 rows and more, 16 a turn
    await grown.engineSettled();
    expect(grown.rerankBits).toBe(4);
    expect(grown.engineChangedSinceState).toBe(true);
    expect(grown.size).toBe(sync.size);
    for (let p = 0; p < next; p += 2) expect(answer(grown, q(p))).toEqual(answer(sync, q(p)));
  });

  it('a large bulk load while the server serves copies in the background too, and its trim completes the copy; at a start, at once', async () => {
    const embeddings = catalog();
    const bulk = make(int8, { fourBitFrom: 150, backgroundFrom: 100, backgroundChunk: 16 });
    const four = make(nibbles);
    bulk.startBulkLoad({ serving: true });
    for (let p = 0; p < 60; p++) {
      put(bulk, p, embeddings[p]);
      put(four, p, embeddings[p]);
      // A turn of the event loop between pages, as a build from the store takes.
      if (p % 20 === 19) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(bulk.rerankBits).toBe(8); // 180 rows: the copy has had one turn
    embeddings.slice(60).forEach((regions, i) => {
      put(bulk, 60 + i, regions);
      put(four, 60 + i, regions);
    });
    bulk.trim();
    expect(bulk.rerankBits).toBe(4);
    await bulk.engineSettled(); // nothing left running
    const starting = make(int8, { fourBitFrom: 150, backgroundFrom: 100, backgroundChunk: 16 });
    starting.startBulkLoad();
    embeddings.forEach((regions, p) => {
      put(starting, p, regions);
      if (p === 49) expect(starting.rerankBits).toBe(4); // 150 rows: copied at once
    });
    starting.trim();
    for (let p = 0; p < 120; p += 3) {
      const q: QueryVector[] = [{ embedding: embeddings[p][2], penalty: 0 }];
      expect(answer(bulk, q)).toEqual(answer(four, q));
      expect(answer(starting, q)).toEqual(answer(four, q));
    }
  });

  it('a background copy whose columns live in kernel memory and grow during the copy ends as a copy at once does', async () => {
    // 3,000 products of 3 regions: the int8 rows move into a kernel's memory at 4,096 rows,
    // and the 4-bit copy, started at 4,500, moves into its own at 8,192 while it runs.
    const rng = new SeededRandom(17);
    const vectors = Array.from({ length: 9000 }, () => {
      const y = new Float32Array(256);
      for (let j = 0; j < 256; j++) y[j] = rng.gaussian() / Math.sqrt(1 + j);
      let norm = 0;
      for (let j = 0; j < 256; j++) norm += y[j] * y[j];
      return int8.quantize(y, 0.5 + 0.1 * rng.gaussian(), Math.sqrt(norm), 0.4);
    });
    const settings = { fourBitFrom: 4500, backgroundFrom: 100, backgroundChunk: 500 };
    const grown = make(int8, settings);
    const sync = make(int8, { ...settings, backgroundFrom: 1e9 });
    const add = (p: number) =>
      [grown, sync].forEach((index) =>
        index.upsertProduct(
          indexedProduct(p),
          [0, 1, 2].map((r) => ({ imageId: `i${r}`, source: 'whole-image' as const, compact: vectors[3 * p + r] })),
        ),
      );
    const remove = (p: number) => [grown, sync].forEach((index) => index.removeProduct(`p${p}`));
    for (let p = 0; p < 1500; p++) add(p); // 4,500 rows: the copy starts
    const columns = (index: ProductSetIndex) => (index as unknown as { compact: CompactColumns }).compact;
    expect(columns(grown).simd).toBe(true);
    let next = 1500;
    let turns = 0;
    while (grown.rerankBits === 8) {
      // 300 rows a turn against the copy's 500, up to 9,000: the copy passes 8,192 rows.
      for (let i = 0; i < 100 && next < 3000; i++) add(next++);
      if (turns % 4 === 3) {
        remove(turns * 40); // a row behind the cursor, freed and then reused by the next add
        add(turns * 40);
      }
      turns++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(next).toBe(3000);
    expect(turns).toBeGreaterThan(15);
    expect(columns(grown).simd).toBe(true);
    expect(columns(sync).simd).toBe(true);
    expect(rowBits(grown)).toEqual(rowBits(sync));
  });

  it('a background copy and a background fill of new coarse lists, started by one write, run side by side and end as both done at once', async () => {
    const embeddings = catalog();
    // One threshold for both; the copy (4 rows a turn) outlasts the training and the filing
    // (32 a turn), so lists are trained and filed from int8 rows and then read 4-bit ones.
    const coarse = (backgroundFrom: number) => ({ from: 150, probeShare: 1, backgroundFrom, backgroundChunk: 32 });
    const both = new ProductSetIndex(new ItqHasher(params), int8, 0, coarse(100), {
      fourBitFrom: 150,
      backgroundFrom: 100,
      backgroundChunk: 4,
    });
    const sync = new ProductSetIndex(new ItqHasher(params), int8, 0, coarse(1e9), { fourBitFrom: 150, backgroundFrom: 1e9 });
    const add = (p: number, regions = embeddings[p]) => [both, sync].forEach((index) => put(index, p, regions));
    const remove = (p: number) => [both, sync].forEach((index) => index.removeProduct(`p${p}`));
    for (let p = 0; p < 50; p++) add(p); // 150 regions: both start
    expect([sync.engineName, sync.rerankBits]).toEqual(['lists', 4]);
    const rng = new SeededRandom(5);
    let next = 50;
    const seen = new Set<string>();
    const running = both as unknown as { pending?: object; requantizing?: object };
    let together = 0; // turns with both jobs under way
    for (let t = 0; t < 100 && !(both.engineName === 'lists' && both.rerankBits === 4); t++) {
      seen.add(`${both.engineName}/${both.rerankBits}`);
      if (running.pending && running.requantizing) together++;
      expect(answer(both, [{ embedding: embeddings[0][1], penalty: 0 }])).toHaveLength(10);
      for (let w = 0; w < 3; w++) next = writeAtRandom(rng, embeddings, next, add, remove);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await both.engineSettled();
    // The old scan on int8 rows answered first, then the new lists on int8 rows.
    expect([...seen]).toEqual(['scan/8', 'lists/8']);
    expect(together).toBeGreaterThanOrEqual(5);
    expect([both.engineName, both.rerankBits]).toEqual(['lists', 4]);
    expect(both.size).toBe(sync.size);
    // Every list probed: the same candidates whatever list a row is filed in, so the same answers.
    for (let p = 0; p < 120; p += 2) {
      const q: QueryVector[] = [{ embedding: embeddings[p][1], penalty: 0 }];
      expect(answer(both, q)).toEqual(answer(sync, q));
    }
    // Each live row filed once, and the 4-bit rows (and scalars) bit for bit those of the copy made at once.
    const engine = (both as unknown as { engine: { size: number } }).engine;
    expect(engine.size).toBe(both.size);
    expect(rowBits(both)).toEqual(rowBits(sync));
  });

  it('one way: a set that shrinks keeps 4 bits; a snapshot of it is refused below the threshold, and an int8 one is re-quantized from it', () => {
    const embeddings = catalog();
    const grown = make(int8, { fourBitFrom: 150 });
    embeddings.forEach((regions, p) => put(grown, p, regions));
    for (let p = 0; p < 80; p++) grown.removeProduct(`p${p}`);
    expect(grown.size).toBe(120);
    expect(grown.rerankBits).toBe(4);
    const state = grown.toState();
    expect(state.compact.bits).toBe(4);
    // A build from the store would give int8 rows at 120 regions: the state is not taken.
    for (const rerank of [undefined, { fourBitFrom: 0 }, { fourBitFrom: 150 }])
      expect(() => ProductSetIndex.fromState(new ItqHasher(params), int8, grown.toState(), undefined, rerank)).toThrow(/4-bit rows/);
    const restarted = ProductSetIndex.fromState(new ItqHasher(params), int8, state, undefined, { fourBitFrom: 100 });
    expect(restarted.rerankBits).toBe(4);
    const q: QueryVector[] = [{ embedding: embeddings[100][0], penalty: 0 }];
    expect(answer(restarted, q)).toEqual(answer(grown, q));

    // An int8 state (the threshold was higher, or none) of a set at the threshold now.
    const before = make(int8);
    embeddings.forEach((regions, p) => put(before, p, regions));
    const taken = ProductSetIndex.fromState(new ItqHasher(params), int8, before.toState(), undefined, { fourBitFrom: 300 });
    expect(taken.rerankBits).toBe(4);
    expect(taken.engineChangedSinceState).toBe(true); // its snapshot is written again, in 4 bits
    const four = make(nibbles);
    embeddings.forEach((regions, p) => put(four, p, regions));
    expect(answer(taken, q)).toEqual(answer(four, q));
    expect(ProductSetIndex.fromState(new ItqHasher(params), int8, before.toState(), undefined, { fourBitFrom: 400 }).rerankBits).toBe(8);
  });
});
