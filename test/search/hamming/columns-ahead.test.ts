/** ColumnsAhead: a growable column's next arrays, made and touched ahead of its growth. */
import { ColumnsAhead, grownCapacity } from '../../../src/search/hamming/capacity';
import { IdMap } from '../../../src/search/hamming/id-table';
import { CoarseListIndex } from '../../../src/search/coarse-lists';
import { CompactColumns } from '../../../src/search/compact-embedding';
import { SeededRandom } from '../../../src/search/hasher';

describe('ColumnsAhead', () => {
  const make = (cap: number) => [new Uint32Array(cap), new Uint8Array(cap)] as const;

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
    const vectorOf = (id: number, out: Float32Array) => {
      let h = id ^ 0x9e3779b9;
      for (let j = 0; j < out.length; j++) {
        h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
        out[j] = (h % 2001) / 1000 - 1;
      }
    };
    const lists = new CoarseListIndex(
      64,
      Float32Array.from({ length: 256 * 4 }, () => rng.gaussian()),
      4,
      vectorOf,
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
    for (let row = 0; ahead() === 0; row++) columns.set(row, v);
    const before = columns.memoryBytes;
    columns.trim(columns.capacity);
    expect(ahead()).toBe(0);
    expect(columns.memoryBytes).toBeLessThan(before);
  });
});
