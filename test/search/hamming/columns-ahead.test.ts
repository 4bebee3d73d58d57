/** ColumnsAhead: a growable column's next arrays, made and touched ahead of its growth. */
import { ColumnsAhead, grownCapacity } from '../../../src/search/hamming/capacity';
import { IdMap } from '../../../src/search/hamming/id-table';
import { vectorOfId } from './codes';
import { CoarseListIndex } from '../../../src/search/coarse-lists';
import { ItqHasher, SeededRandom } from '../../../src/search/hasher';
import { readItqParams } from '../../../src/search/hasher/itq-params';
import { CompactColumns, CompactEmbeddingCodec } from '../../../src/search/compact-embedding';
import { ProductSetIndex } from '../../../src/search/product-set-index';
import path from 'node:path';

const HASHING = path.resolve(__dirname, '..', '..', '..', 'models', 'hashing');

describe('ColumnsAhead', () => {
  // Filled with ones, so the test sees which pages were touched (a zero a page).
  const make = (cap: number) => [new Uint32Array(cap).fill(1), new Uint8Array(cap).fill(1)] as const;

  it('from 98 % of a large capacity, makes the next capacity arrays and touches them in step, all by the brim', () => {
    const cap = 100_000;
    const ahead = new ColumnsAhead(make);
    const next = grownCapacity(cap, cap + 1);
    const size = next * 5;
    let last = 0;
    let early = 0;
    let falls = 0;
    for (let used = 1; used <= cap; used++) {
      ahead.step(used, cap);
      if (used < 98_000) early += ahead.bytes;
      if (ahead.bytes < last) falls++;
      last = ahead.bytes;
      // In step: about the share of the way from 98 % to the brim.
      if (used === 99_000) expect(ahead.bytes / size).toBeCloseTo(0.5, 1);
    }
    expect([early, falls]).toEqual([0, 0]);
    expect(ahead.bytes).toBe(size);
    const arrays = ahead.take(next)!;
    expect(arrays.map((a) => a.length)).toEqual([next, next]);
    // Every 4 KB page of the arrays, taken as one run of bytes, got its zero.
    const bytes = new Uint8Array(size);
    bytes.set(new Uint8Array(arrays[0].buffer), 0);
    bytes.set(arrays[1], arrays[0].byteLength);
    for (let page = 0; page < size; page += 4096) expect(bytes.subarray(page, page + 4096).includes(0)).toBe(true);
    expect(ahead.bytes).toBe(0);
    expect(ahead.take(next)).toBeUndefined();
  });

  it('makes nothing for small columns, or for one filled to the brim at once; take of another capacity forgets', () => {
    const ahead = new ColumnsAhead(make);
    for (let used = 1; used <= 60_000; used++) ahead.step(used, 60_000);
    expect(ahead.bytes).toBe(0);
    ahead.step(100_000, 100_000);
    expect(ahead.bytes).toBe(0);
    ahead.step(99_000, 100_000);
    expect(ahead.bytes).toBeGreaterThan(0);
    expect(ahead.take(100_000)).toBeUndefined();
    expect(ahead.bytes).toBe(0);
  });

  it('an IdMap grown one id at a time grows into the array made ahead, and counts what is touched', () => {
    const map = new IdMap();
    for (let id = 0; id < 150_000; id++) map.set(id, id + 1);
    const inner = map as unknown as { dense: Int32Array; denseAhead: ColumnsAhead<readonly [Int32Array<ArrayBuffer>]> };
    const cap = inner.dense.length;
    for (let id = 150_000; id < cap; id++) map.set(id, id + 1);
    const made = (inner.denseAhead as unknown as { next?: { arrays: readonly [Int32Array] } }).next!.arrays[0];
    expect(map.memoryBytes).toBe(cap * 4 + made.byteLength);
    map.set(cap, cap + 1);
    expect(inner.dense).toBe(made);
    expect(map.memoryBytes).toBe(made.byteLength);
    for (let id = 0; id <= cap; id += 997) expect(map.get(id)).toBe(id + 1);
    expect(map.get(cap + 1)).toBe(-1);
  });

  it('a fill at once and a trim leave nothing made ahead: coarse lists filled at once, compact columns trimmed', () => {
    const rng = new SeededRandom(4);
    const n = 100_000;
    // Many lists, each laid out by its own move: the last moves reach the exact reservation's end.
    const lists = new CoarseListIndex(
      64,
      Float32Array.from({ length: 256 * 4 }, () => rng.gaussian()),
      4,
      vectorOfId,
      2,
    );
    lists.add(
      Array.from({ length: n }, (_, i) => i),
      Uint8Array.from({ length: n * 8 }, () => rng.int(256)),
    );
    expect((lists as unknown as { idsAhead: ColumnsAhead<[]> }).idsAhead.bytes).toBe(0);
    const columns = new CompactColumns(16);
    const ahead = () => (columns as unknown as { scalarsAhead: ColumnsAhead<[]> }).scalarsAhead.bytes;
    const v = { q: new Int8Array(16), scale: 1, offset: 0, norm: 1, residual: 0 };
    for (let row = 0; ahead() === 0; row++) {
      columns.set(row, v);
      columns.growing(row + 1);
    }
    const before = columns.memoryBytes;
    columns.trim(columns.capacity);
    expect(ahead()).toBe(0);
    expect(columns.memoryBytes).toBeLessThan(before);
  });

  it('a product set grows its row columns and re-rank scalars into arrays made ahead, and a reused row after a trim touches little', async () => {
    const basis = await readItqParams(HASHING, 256);
    const params = await readItqParams(HASHING, 128);
    const codec = new CompactEmbeddingCodec(basis, [params]);
    const index = new ProductSetIndex(new ItqHasher(params), codec, 0);
    const rng = new SeededRandom(8);
    // The same ten vectors for every product: what is measured here is the columns' growth.
    const regions = Array.from({ length: 10 }, (_, r) => {
      const y = Float32Array.from({ length: 256 }, () => rng.gaussian() * 0.05);
      return { imageId: `i${r}`, source: 'whole-image' as const, compact: codec.quantize(y, 0.5, Math.hypot(...y), 0.5) };
    });
    const put = (p: number) =>
      index.upsertProduct(
        { project: 'p', location: 'l', id: `p${p}`, displayName: '', description: '', productCategory: 'general-v1', labels: [] },
        regions,
      );
    index.startBulkLoad();
    for (let p = 0; p < 8_000; p++) put(p);
    index.trim(); // 80,000 rows, 1/128 of room kept: 99.2 % full
    type Inner = {
      flags: Uint8Array;
      rowsAhead: ColumnsAhead<readonly Uint8Array<ArrayBuffer>[]>;
      compact: { scalars: Uint16Array; capacity: number; scalarsAhead: ColumnsAhead<readonly Uint16Array<ArrayBuffer>[]> };
    };
    const inner = index as unknown as Inner;
    const next = (a: ColumnsAhead<readonly Uint8Array<ArrayBuffer>[]> | ColumnsAhead<readonly Uint16Array<ArrayBuffer>[]>) =>
      (a as unknown as { next?: { arrays: readonly unknown[]; size: number } }).next;
    // A product built among the last rows is written again (its rows are reused), then a new one.
    put(7_995);
    put(8_000);
    const scalars = next(inner.compact.scalarsAhead)!;
    expect(inner.compact.scalarsAhead.bytes / scalars.size).toBeLessThan(0.05);
    expect(inner.rowsAhead.bytes / next(inner.rowsAhead)!.size).toBeLessThan(0.05);
    const madeFlags = next(inner.rowsAhead)!.arrays[2];
    const madeScalars = scalars.arrays[0];
    for (let p = 8_001; inner.flags.length <= 80_625; p++) put(p);
    expect(inner.flags).toBe(madeFlags);
    expect(inner.compact.scalars).toBe(madeScalars);
  });
});
