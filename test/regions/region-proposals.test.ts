import {
  categoryRegions,
  garmentBoxes,
  IntegralMap,
  pooledWindowBoxes,
  SMALL_VIEW_SIDE,
  smallView,
} from '../../src/regions/region-proposals';
import { SeededRandom } from '../../src/search/hasher/seeded-random';
import { l2Normalize } from '../../src/core/vectors';
import type { Box } from '../../src/vision/box';

const inside = (b: Box) => b.x0 >= 0 && b.y0 >= 0 && b.x1 <= 1 && b.y1 <= 1 && b.x1 > b.x0 && b.y1 > b.y0;
const obj = (name: string, x0: number, y0: number, x1: number, y1: number) => ({
  name,
  mid: '/m/x',
  score: 0.9,
  model: 'm',
  box: { x0, y0, x1, y1 },
});

test('pooled windows: inside the image, deterministic, bounded, two scales, covering every cell', () => {
  const w = pooledWindowBoxes(14);
  expect(w.every(inside)).toBe(true);
  expect(pooledWindowBoxes(14)).toEqual(w);
  expect(w).toHaveLength(25);
  expect([...new Set(w.map((b) => Math.round((b.x1 - b.x0) * 14)))].sort()).toEqual([5, 8]);
  for (let y = 0; y < 14; y++) {
    for (let x = 0; x < 14; x++)
      expect(w.some((b) => b.x0 * 14 <= x && x + 1 <= b.x1 * 14 + 1e-9 && b.y0 * 14 <= y && y + 1 <= b.y1 * 14 + 1e-9)).toBe(true);
  }
  for (const n of [7, 10, 20]) expect(pooledWindowBoxes(n).every(inside)).toBe(true);
});

test('the integral map pools exactly what summing the cells does, and the whole map is the mean of all cells', () => {
  const rng = new SeededRandom(3);
  const map = { h: 6, w: 5, c: 8, data: Float32Array.from({ length: 6 * 5 * 8 }, () => rng.next()) };
  const brute = (b: Box) => {
    const sum = new Float32Array(map.c);
    for (let y = Math.floor(b.y0 * map.h); y < Math.ceil(b.y1 * map.h); y++) {
      for (let x = Math.floor(b.x0 * map.w); x < Math.ceil(b.x1 * map.w); x++)
        for (let k = 0; k < map.c; k++) sum[k] += map.data[(y * map.w + x) * map.c + k];
    }
    return l2Normalize(sum);
  };
  const integral = new IntegralMap(map);
  for (const b of [
    { x0: 0, y0: 0, x1: 1, y1: 1 },
    { x0: 0.2, y0: 0.5, x1: 0.6, y1: 1 },
    { x0: 0.8, y0: 0, x1: 1, y1: 1 / 6 },
  ]) {
    const got = integral.pool(b);
    const want = brute(b);
    for (let k = 0; k < map.c; k++) expect(got[k]).toBeCloseTo(want[k], 5);
  }
  // A box thinner than a cell still pools one cell.
  expect(integral.pool({ x0: 0.41, y0: 0.41, x1: 0.42, y1: 0.42 }).some((v) => v > 0)).toBe(true);
});

test('the small view of an image is a thumbnail of at most SMALL_VIEW_SIDE px; small images stay as they are', async () => {
  const img = { data: new Uint8Array(400 * 300 * 3).fill(90), width: 400, height: 300 };
  const small = await smallView(img);
  expect([small.width, small.height]).toEqual([SMALL_VIEW_SIDE, 96]);
  const tiny = { data: new Uint8Array(100 * 50 * 3), width: 100, height: 50 };
  expect(await smallView(tiny)).toBe(tiny);
});

test('garments: upper and lower body inside the person, and the whole figure', () => {
  const person = { x0: 0.2, y0: 0.1, x1: 0.6, y1: 0.9 };
  const g = garmentBoxes(person);
  expect(g.map((p) => p.part)).toEqual(['upper', 'lower', 'full']);
  for (const p of g)
    expect(p.box.x0 >= person.x0 && p.box.x1 <= person.x1 && p.box.y0 >= person.y0 && p.box.y1 <= person.y1 + 1e-12).toBe(true);
  expect(g[0].box.y0).toBeCloseTo(0.22);
  expect(g[0].box.y1).toBeCloseTo(0.58);
  expect(g[1].box.y0).toBeCloseTo(0.46);
  expect(g[2].box).toEqual(person);
});

test('category regions: fitting classes only; a person yields garments only for apparel', () => {
  const objects = [obj('Person', 0, 0, 0.5, 1), obj('Footwear', 0.1, 0.8, 0.2, 0.95), obj('Mug', 0.6, 0.6, 0.8, 0.8)];
  expect(categoryRegions(objects, 'apparel-v2').map((r) => r.kind + (r.garment ? `:${r.garment}` : ''))).toEqual([
    'garment:upper',
    'garment:lower',
    'garment:full',
    'object',
  ]);
  expect(categoryRegions(objects, 'homegoods-v2').map((r) => r.object?.name)).toEqual(['Mug']);
  expect(categoryRegions(objects, 'general-v1')).toHaveLength(3);
  expect(categoryRegions(objects, 'toys-v2')).toEqual([]);
});
