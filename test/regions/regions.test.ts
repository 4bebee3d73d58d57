import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  canonicalCategory,
  CATEGORY_CLASSES,
  categoryOfClass,
  classesForCategory,
  MAX_REGIONS,
  objectRoom,
  selectRegions,
} from '../../src/regions/regions';

const size = { width: 1000, height: 800 };
const det = (name: string, x0: number, y0: number, x1: number, y1: number) => ({ name, score: 0.8, box: { x0, y0, x1, y1 } });

test('given polygons win over detection and become clamped pixel rectangles', () => {
  const regions = selectRegions(
    [
      {
        vertices: [
          { x: 10, y: 20 },
          { x: 500, y: 20 },
          { x: 500, y: 900 },
          { x: 10, y: 900 },
        ],
        normalized: false,
      },
      {
        vertices: [
          { x: 0.5, y: 0.1 },
          { x: 1, y: 0.1 },
          { x: 1, y: 0.9 },
          { x: 0.5, y: 0.9 },
        ],
        normalized: true,
      },
    ],
    [det('Footwear', 0, 0, 0.5, 0.5)],
    'apparel-v2',
    size,
  );
  expect(regions).toEqual([
    { box: { x0: 10, y0: 20, x1: 500, y1: 800 }, source: 'request' },
    { box: { x0: 500, y0: 80, x1: 1000, y1: 720 }, source: 'request' },
  ]);
});

test("normalized polygons are held to Google's size rules once the size is known", () => {
  const tiny = {
    vertices: [
      { x: 0, y: 0 },
      { x: 0.1, y: 0.1 },
    ],
    normalized: true,
  };
  expect(() => selectRegions([tiny], [], 'toys-v2', size)).toThrow(
    expect.objectContaining({ code: 3, message: expect.stringMatching(/at least 300 px/) }),
  );
});

test('without polygons: the whole image first, then the objects that fit the category and, for apparel, the garments of each person', () => {
  const whole = { box: { x0: 0, y0: 0, x1: 1000, y1: 800 }, source: 'whole-image' };
  const dets = [det('Person', 0, 0, 1, 1), det('Footwear', 0.1, 0.5, 0.3, 0.9), det('Mug', 0.6, 0.6, 0.8, 0.8)];
  expect(selectRegions([], dets, 'apparel', size)).toEqual([
    whole,
    { box: { x0: 0, y0: 120, x1: 1000, y1: 480 }, source: 'garment' }, // upper body: 15-60 % of the figure
    { box: { x0: 0, y0: 360, x1: 1000, y1: 800 }, source: 'garment' }, // lower body: 45-100 %
    { box: { x0: 0, y0: 0, x1: 1000, y1: 800 }, source: 'garment' }, // the whole figure
    { box: { x0: 100, y0: 400, x1: 300, y1: 720 }, source: 'detected' },
  ]);
  expect(selectRegions([], dets, 'homegoods-v2', size).map((r) => r.box)).toEqual([whole.box, { x0: 600, y0: 480, x1: 800, y1: 640 }]);
  expect(selectRegions([], dets, 'general-v1', size)).toHaveLength(4);
  expect(selectRegions([], [det('Person', 0, 0, 1, 1)], 'toys-v2', size)).toEqual([whole]);
  expect(selectRegions([], [], 'general-v1', size)).toEqual([whole]);
});

test('at most MAX_REGIONS regions per reference image, the whole image always among them', () => {
  const many = Array.from({ length: 30 }, (_, i) => det('Mug', i / 40, 0, i / 40 + 0.2, 0.2));
  const regions = selectRegions([], many, 'general-v1', size);
  expect(regions).toHaveLength(MAX_REGIONS);
  expect(regions[0].source).toBe('whole-image');
});

test('each category maps to exactly its classes; legacy ones follow their successors; unknown ones take any class', () => {
  const sorted = (c: string) => {
    const classes = classesForCategory(c);
    return classes === 'any' ? classes : [...classes].sort();
  };
  expect(sorted('apparel-v2')).toEqual(['Backpack', 'Boot', 'Footwear', 'Handbag', 'High heels', 'Suitcase', 'Tie', 'Umbrella']);
  expect(sorted('homegoods-v2')).toEqual([
    'Bed',
    'Bench',
    'Book',
    'Bowl',
    'Chair',
    'Clock',
    'Coffee cup',
    'Computer monitor',
    'Couch',
    'Desk',
    'Fork',
    'Houseplant',
    'Kitchen & dining room table',
    'Knife',
    'Microwave oven',
    'Mug',
    'Oven',
    'Refrigerator',
    'Sink',
    'Spoon',
    'Table',
    'Television',
    'Toaster',
    'Toilet',
    'Vase',
    'Wine glass',
  ]);
  expect(sorted('toys-v2')).toEqual([
    'Airplane',
    'Ball',
    'Bicycle',
    'Boat',
    'Car',
    'Flying disc',
    'Kite',
    'Skateboard',
    'Teddy bear',
    'Train',
  ]);
  expect(sorted('packagedgoods-v1')).toEqual(['Book', 'Bottle', 'Box', 'Coffee cup', 'Mug', 'Wine glass']);
  expect(classesForCategory('general-v1')).toBe('any');
  for (const [legacy, current] of [
    ['apparel', 'apparel-v2'],
    ['homegoods', 'homegoods-v2'],
    ['toys', 'toys-v2'],
  ]) {
    expect(classesForCategory(legacy)).toEqual(classesForCategory(current));
    expect(canonicalCategory(legacy)).toBe(current);
  }
  expect(classesForCategory('no-such-category')).toBe('any');
  expect(classesForCategory('packagedgoods')).toBe('any'); // no legacy name: not a -v1 alias
});

test('categoryOfClass is the first narrower category listing the class, else general-v1', () => {
  const order = Object.keys(CATEGORY_CLASSES);
  for (const [category, classes] of Object.entries(CATEGORY_CLASSES)) {
    if (classes === 'any') continue;
    for (const c of classes) {
      const got = categoryOfClass(c);
      expect((CATEGORY_CLASSES[got] as readonly string[]).includes(c)).toBe(true);
      expect(order.indexOf(got)).toBeLessThanOrEqual(order.indexOf(category));
    }
  }
  expect(categoryOfClass('Book')).toBe('homegoods-v2'); // also packagedgoods-v1, listed later
  expect(categoryOfClass('Bottle')).toBe('packagedgoods-v1');
  expect(categoryOfClass('Person')).toBe('general-v1');
});

test('every mapped class is a class the shipped detectors can report', () => {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'models', 'manifest.json'), 'utf8')) as {
    models: { labels?: { open_images_name: string | null }[] }[];
  };
  const known = new Set(manifest.models.flatMap((m) => (m.labels ?? []).map((l) => l.open_images_name)));
  for (const [category, classes] of Object.entries(CATEGORY_CLASSES)) {
    if (classes === 'any') continue;
    expect({ category, unknown: classes.filter((c) => !known.has(c)) }).toEqual({ category, unknown: [] });
  }
});

test('a region cap (METAPIXEL_MAX_REGIONS_PER_IMAGE) keeps the whole image and leaves objects what the thumbnail does not take', () => {
  const many = Array.from({ length: 30 }, (_, i) => det('Mug', i / 40, 0, i / 40 + 0.2, 0.2));
  // cap 4: the whole image, the thumbnail (added by the ingestor) and two objects.
  expect(objectRoom(4)).toBe(2);
  const four = selectRegions([], many, 'general-v1', size, 4);
  expect(four.map((r) => r.source)).toEqual(['whole-image', 'detected', 'detected']);
  expect(four[1].box).toEqual({ x0: 0, y0: 0, x1: 200, y1: 160 });
  // cap 1 or 2: no object at all, so no detection is needed.
  expect(objectRoom(1)).toBe(0);
  expect(objectRoom(2)).toBe(0);
  expect(selectRegions([], many, 'general-v1', size, 2)).toEqual([{ box: { x0: 0, y0: 0, x1: 1000, y1: 800 }, source: 'whole-image' }]);
  // A large cap never lifts Google's limit of 10.
  expect(objectRoom(1000)).toBe(MAX_REGIONS - 1);
  // Given polygons are capped too.
  const poly = {
    vertices: [
      { x: 0, y: 0 },
      { x: 500, y: 0 },
      { x: 500, y: 500 },
      { x: 0, y: 500 },
    ],
    normalized: false,
  };
  expect(selectRegions([poly, poly, poly], [], 'general-v1', size, 2)).toHaveLength(2);
});
