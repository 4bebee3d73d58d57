import { CATEGORY_CLASSES, classesForCategory, MAX_REGIONS, objectRoom, selectRegions } from '../../src/search/regions';

const size = { width: 1000, height: 800 };
const det = (name: string, x0: number, y0: number, x1: number, y1: number) => ({ name, score: 0.8, box: { x0, y0, x1, y1 } });

test('given polygons win over detection and become clamped pixel rectangles', () => {
  const regions = selectRegions(
    [
      { vertices: [{ x: 10, y: 20 }, { x: 500, y: 20 }, { x: 500, y: 900 }, { x: 10, y: 900 }], normalized: false },
      { vertices: [{ x: 0.5, y: 0.1 }, { x: 1, y: 0.1 }, { x: 1, y: 0.9 }, { x: 0.5, y: 0.9 }], normalized: true },
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

test('normalized polygons are held to Google\'s size rules once the size is known', () => {
  const tiny = { vertices: [{ x: 0, y: 0 }, { x: 0.1, y: 0.1 }], normalized: true };
  expect(() => selectRegions([tiny], [], 'toys-v2', size)).toThrow(expect.objectContaining({ code: 3, message: expect.stringMatching(/at least 300 px/) }));
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

test('every category Google accepts has its own mapping; legacy ones follow their successors', () => {
  expect(classesForCategory('general-v1')).toBe('any');
  for (const c of ['homegoods-v2', 'apparel-v2', 'toys-v2', 'packagedgoods-v1']) {
    const classes = classesForCategory(c);
    expect(Array.isArray(classes) && classes.length > 0).toBe(true);
  }
  expect(classesForCategory('apparel')).toBe(classesForCategory('apparel-v2'));
  expect(classesForCategory('homegoods')).toBe(classesForCategory('homegoods-v2'));
  expect(classesForCategory('toys')).toBe(classesForCategory('toys-v2'));
  expect(classesForCategory('no-such-category')).toBe('any');
});

test('every mapped class is a class the shipped detectors can report', () => {
  const manifest = JSON.parse(require('node:fs').readFileSync(require('node:path').join(__dirname, '..', '..', 'models', 'manifest.json'), 'utf8')) as {
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
  const poly = { vertices: [{ x: 0, y: 0 }, { x: 500, y: 0 }, { x: 500, y: 500 }, { x: 0, y: 500 }], normalized: false };
  expect(selectRegions([poly, poly, poly], [], 'general-v1', size, 2)).toHaveLength(2);
});
