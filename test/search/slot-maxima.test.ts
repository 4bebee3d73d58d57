import { SlotMaxima } from '../../src/search/slot-maxima';
import { SeededRandom } from '../../src/search/hasher/seeded-random';

describe('SlotMaxima', () => {
  it('keeps the greatest value per slot with its row and query, the first on ties', () => {
    const m = new SlotMaxima();
    m.start(10);
    m.offer(3, 0.5, 30, 0);
    m.offer(7, 0.2, 70, 0);
    m.offer(3, 0.7, 31, 1);
    m.offer(3, 0.7, 32, 2);
    m.offer(3, 0.6, 33, 3);
    expect(m.touched).toEqual([3, 7]);
    expect([m.value[3], m.row[3], m.query[3]]).toEqual([0.7, 31, 1]);
    expect([m.value[7], m.row[7], m.query[7]]).toEqual([0.2, 70, 0]);
  });

  it('forgets every offer at start, and grows to more slots keeping nothing', () => {
    const m = new SlotMaxima();
    m.start(4);
    m.offer(2, 0.9, 1, 0);
    m.start(4);
    expect(m.touched).toEqual([]);
    m.offer(2, -0.5, 5, 1);
    expect([m.value[2], m.row[2]]).toEqual([-0.5, 5]);
    m.start(1000);
    m.offer(999, 0.1, 9, 0);
    m.offer(2, -1, 6, 0);
    expect(m.touched).toEqual([999, 2]);
    expect(m.row[2]).toBe(6);
  });

  it('takes NaN as the least value, so it neither sticks nor cuts leading() short', () => {
    const m = new SlotMaxima();
    m.start(4);
    m.offer(0, 0.9, 0, 0);
    m.offer(1, NaN, 1, 0);
    m.offer(2, 0.5, 2, 0);
    m.offer(3, NaN, 3, 0);
    m.offer(3, 0.1, 4, 0);
    expect(m.leading(1)).toEqual([0]);
    expect(m.leading(3).sort()).toEqual([0, 2, 3]);
    expect(m.row[3]).toBe(4);
  });

  it('leading(n) is every slot whose value is among the n greatest, ties with the n-th included', () => {
    const rng = new SeededRandom(5);
    const m = new SlotMaxima();
    for (let round = 0; round < 20; round++) {
      const slots = 50 + Math.floor(rng.next() * 500);
      m.start(slots);
      const best = new Map<number, number>();
      for (let i = 0; i < 3 * slots; i++) {
        const slot = Math.floor(rng.next() * slots);
        // Few distinct values, so ties at the cut are common.
        const value = Math.floor(rng.next() * 20) / 20;
        m.offer(slot, value, i, 0);
        best.set(slot, Math.max(best.get(slot) ?? -Infinity, value));
      }
      const n = 1 + Math.floor(rng.next() * 40);
      const values = [...best.values()].sort((a, b) => b - a);
      const cut = values[Math.min(n, values.length) - 1];
      const expected = [...best].filter(([, v]) => v >= cut).map(([s]) => s);
      expect(m.leading(n).sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
    }
  });
});
