import { mapLimit } from '../../src/core/concurrency';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('keeps input order and never runs more than the limit at once', async () => {
  let running = 0;
  let peak = 0;
  const out = await mapLimit([30, 5, 20, 1, 10, 2], 2, async (ms, i) => {
    peak = Math.max(peak, ++running);
    await tick(ms);
    running--;
    return `${i}:${ms}`;
  });
  expect(out).toEqual(['0:30', '1:5', '2:20', '3:1', '4:10', '5:2']);
  expect(peak).toBe(2);
});

test('the first failure rejects, and items not yet started are not started', async () => {
  const started: number[] = [];
  await expect(
    mapLimit([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await tick(5);
      if (n === 1) throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  await tick(30);
  expect(started.length).toBeLessThan(6);
});

test('an empty list resolves to an empty list', async () => {
  expect(await mapLimit([], 4, async () => 1)).toEqual([]);
});
