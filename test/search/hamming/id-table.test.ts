import { IdMap, IdTable } from '../../../src/search/hamming/id-table';
import { rng } from './codes';

describe('IdTable', () => {
  it('agrees with a Map under random churn (backward-shift deletion keeps lookups right)', () => {
    const table = new IdTable();
    const model = new Map<number, number>();
    const next = rng(1);
    const mismatches = () => [...model].filter(([k, v]) => table.get(k) !== v).length;
    for (let step = 0; step < 30_000; step++) {
      // Small key space so probes collide and deletions shift runs often.
      const id = step % 3 === 0 ? next() : next() % 5000;
      if (next() % 3 === 0) expect(table.delete(id)).toBe(model.delete(id));
      else {
        table.set(id, step);
        model.set(id, step);
      }
      if (step % 1000 === 0) expect(mismatches()).toBe(0);
    }
    expect(table.size).toBe(model.size);
    expect(mismatches()).toBe(0);
  });

  it('rolls back a batch that contains a duplicate', () => {
    const table = new IdTable();
    expect(table.insertBatch(new Uint32Array([1, 2, 3]), 0)).toBe(-1);
    expect(table.insertBatch(new Uint32Array([4, 5, 2, 6]), 3)).toBe(2);
    expect([4, 5, 6].map((id) => table.has(id))).toEqual([false, false, false]);
    expect(table.insertBatch(new Uint32Array([7, 7]), 3)).toBe(7);
    expect(table.has(7)).toBe(false);
    expect(table.size).toBe(3);
    expect(table.get(0xffffffff)).toBe(-1);
  });
});

describe('IdMap', () => {
  it('agrees with a Map under random churn, dense (4 bytes an id) until a sparse id arrives', () => {
    const map = new IdMap();
    const model = new Map<number, number>();
    const next = rng(2);
    for (let step = 0; step < 20_000; step++) {
      const id = next() % 3000;
      if (next() % 3 === 0) expect(map.delete(id)).toBe(model.delete(id));
      else {
        map.set(id, step);
        model.set(id, step);
      }
    }
    expect(map.size).toBe(model.size);
    expect([...model].every(([k, v]) => map.get(k) === v)).toBe(true);
    expect(map.memoryBytes).toBeLessThanOrEqual(4 * 2 * 3000);
    // A far id: everything moves to a hash table, nothing is lost.
    map.set(0xffffffff, 7);
    model.set(0xffffffff, 7);
    expect(map.size).toBe(model.size);
    expect([...model].every(([k, v]) => map.get(k) === v)).toBe(true);
    expect(map.get(12345678)).toBe(-1);
  });

  it('rolls back a batch that contains a duplicate, dense or not', () => {
    for (const start of [0, 2 ** 31]) {
      const map = new IdMap();
      const ids = (...xs: number[]) => new Uint32Array(xs.map((x) => start + x));
      expect(map.insertBatch(ids(1, 2, 3), 0)).toBe(-1);
      expect(map.insertBatch(ids(4, 5, 2, 6), 3)).toBe(start + 2);
      expect([4, 5, 6].map((id) => map.has(start + id))).toEqual([false, false, false]);
      expect(map.insertBatch(ids(7, 7), 3)).toBe(start + 7);
      expect(map.has(start + 7)).toBe(false);
      expect(map.size).toBe(3);
      expect(map.get(start + 3)).toBe(2);
    }
  });

  it('moveBatch gives held ids new slots, dense or not, and leaves the others', () => {
    for (const start of [0, 2 ** 31]) {
      const map = new IdMap();
      const ids = (...xs: number[]) => new Uint32Array(xs.map((x) => start + x));
      map.insertBatch(ids(1, 2, 3, 4), 0);
      map.moveBatch(ids(3, 1), 10);
      expect([1, 2, 3, 4].map((id) => map.get(start + id))).toEqual([11, 1, 10, 3]);
      expect(map.size).toBe(4);
    }
  });
});
