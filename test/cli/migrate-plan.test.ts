/**
 * The comparison behind `metapixel migrate` (src/cli/migrate-plan.ts) and its retry policy
 * (src/cli/migrate-retry.ts), without servers: what is created, skipped, updated or
 * reported; which listed polygons are taken for the source's detection; which errors are
 * retried and how often.
 */
import type { Catalog, ImageData, ProductData } from '../../src/cli/migrate-catalog';
import { couldBeGiven, planMigration } from '../../src/cli/migrate-plan';
import { withRetry } from '../../src/cli/migrate-retry';

const P = 'projects/p/locations/l';

function catalog(
  c: Partial<{
    sets: [string, string][];
    products: [string, Partial<ProductData>][];
    members: [string, string[]][];
    images: [string, [string, ImageData][]][];
  }>,
): Catalog {
  return {
    sets: new Map(c.sets ?? []),
    products: new Map(
      (c.products ?? []).map(([id, p]) => [id, { displayName: id, description: '', productCategory: 'general-v1', labels: [], ...p }]),
    ),
    members: new Map((c.members ?? []).map(([s, ids]) => [s, new Set(ids)])),
    images: new Map((c.images ?? []).map(([id, list]) => [id, new Map(list)])),
  };
}

const rect = (w: number, h: number) => ({
  vertices: [
    { x: 0, y: 0 },
    { x: w, y: 0 },
    { x: w, y: h },
    { x: 0, y: h },
  ],
});

test('an empty target: everything is created, images and memberships after the resources they need', () => {
  const source = catalog({
    sets: [['s', 'Set']],
    products: [['a', { labels: [{ key: 'k', value: 'v' }] }]],
    members: [['s', ['a']]],
    images: [['a', [['i', { uri: 'gs://b/a.jpg', boundingPolys: [rect(400, 300)] }]]]],
  });
  const plan = planMigration(source, catalog({}), P, { detectRegions: false });
  expect(plan.steps.map((s) => [s.kind, s.op, s.name, s.after])).toEqual([
    ['productSets', 'create', `${P}/productSets/s`, []],
    ['products', 'create', `${P}/products/a`, []],
    ['referenceImages', 'create', `${P}/products/a/referenceImages/i`, [`${P}/products/a`]],
    ['memberships', 'create', `${P}/productSets/s <- ${P}/products/a`, [`${P}/productSets/s`, `${P}/products/a`]],
  ]);
  expect(plan.steps[2].call).toEqual({
    rpc: 'createReferenceImage',
    productId: 'a',
    imageId: 'i',
    image: { uri: 'gs://b/a.jpg', boundingPolys: [rect(400, 300)] },
  });
  expect(plan.skipped).toEqual({ productSets: 0, products: 0, referenceImages: 0, memberships: 0 });
});

test('a target equal to the source: all skipped (labels in another order are equal)', () => {
  const labels = [
    { key: 'a', value: '1' },
    { key: 'b', value: '2' },
  ];
  const make = (l: typeof labels) =>
    catalog({
      sets: [['s', 'Set']],
      products: [['a', { labels: l, description: 'd' }]],
      members: [['s', ['a']]],
      images: [['a', [['i', { uri: 'gs://b/x', boundingPolys: [] }]]]],
    });
  const plan = planMigration(make(labels), make([...labels].reverse()), P, { detectRegions: false });
  expect(plan.steps).toEqual([]);
  expect(plan.skipped).toEqual({ productSets: 1, products: 1, referenceImages: 1, memberships: 1 });
});

test('differences: updated where the API allows, conflicts otherwise', () => {
  const source = catalog({
    sets: [['s', 'New name']],
    products: [
      ['a', { displayName: 'A2', labels: [{ key: 'c', value: 'red' }] }],
      ['b', { productCategory: 'toys-v2' }],
      ['c', { description: 'new' }],
    ],
    images: [
      [
        'c',
        [
          ['i', { uri: 'gs://b/new', boundingPolys: [] }],
          ['j', { uri: 'gs://b/j', boundingPolys: [rect(300, 300)] }],
        ],
      ],
    ],
  });
  const target = catalog({
    sets: [['s', 'Old name']],
    products: [
      ['a', {}],
      ['b', { productCategory: 'apparel-v2' }],
      ['c', {}],
    ],
    images: [
      [
        'c',
        [
          ['i', { uri: 'gs://b/old', boundingPolys: [] }],
          ['j', { uri: 'gs://b/j', boundingPolys: [rect(300, 400)] }],
        ],
      ],
    ],
  });
  const plan = planMigration(source, target, P, { detectRegions: false });
  expect(plan.steps.map((s) => [s.op, s.name, s.detail])).toEqual([
    ['update', `${P}/productSets/s`, 'displayName'],
    ['update', `${P}/products/a`, 'display_name, product_labels'],
    [
      'conflict',
      `${P}/products/b`,
      'productCategory is apparel-v2 on the target, toys-v2 on the source, and cannot be updated: delete the product on the target, then rerun',
    ],
    ['update', `${P}/products/c`, 'description'],
    [
      'conflict',
      `${P}/products/c/referenceImages/i`,
      'uri is gs://b/old on the target, gs://b/new on the source; reference images cannot be updated: delete it on the target, then rerun',
    ],
    [
      'conflict',
      `${P}/products/c/referenceImages/j`,
      'boundingPolys differ; reference images cannot be updated: delete it on the target, then rerun',
    ],
  ]);
  // --detect-regions: polygons are not compared.
  expect(planMigration(source, target, P, { detectRegions: true }).steps.filter((s) => s.name.endsWith('/j'))).toEqual([]);
});

test("listed polygons a caller could not have given are the source's detection: created without polygons, not compared", () => {
  expect(couldBeGiven([])).toBe(true);
  expect(couldBeGiven([rect(300, 1200)])).toBe(true);
  expect(couldBeGiven([rect(768, 576), rect(200, 400)])).toBe(false); // short side 200 px
  expect(couldBeGiven([rect(300, 1300)])).toBe(false); // worse than 1:4
  expect(couldBeGiven(Array.from({ length: 11 }, () => rect(400, 400)))).toBe(false);
  expect(
    couldBeGiven([
      {
        normalizedVertices: [
          { x: 0, y: 0 },
          { x: 0.1, y: 0 },
          { x: 0.1, y: 0.1 },
          { x: 0, y: 0.1 },
        ],
      },
    ]),
  ).toBe(true);

  const detected = { uri: 'gs://b/d', boundingPolys: [rect(768, 576), rect(120, 90)] };
  const source = catalog({ products: [['a', {}]], images: [['a', [['d', detected]]]] });
  const [create] = planMigration(source, catalog({ products: [['a', {}]] }), P, { detectRegions: false }).steps;
  expect(create.call).toEqual({ rpc: 'createReferenceImage', productId: 'a', imageId: 'd', image: { uri: 'gs://b/d', boundingPolys: [] } });
  expect(create.detail).toMatch(/regions detected by the target/);
  // The target's own detection may differ: not a conflict.
  const target = catalog({ products: [['a', {}]], images: [['a', [['d', { uri: 'gs://b/d', boundingPolys: [rect(768, 576)] }]]]] });
  expect(planMigration(source, target, P, { detectRegions: false }).skipped.referenceImages).toBe(1);
});

test('retries: UNAVAILABLE and RESOURCE_EXHAUSTED up to the attempts, other codes at once', async () => {
  const policy = { attempts: 4, firstDelayMs: 1, maxDelayMs: 4 };
  const failing = (code: number) => {
    const attempts: number[] = [];
    return {
      attempts,
      fn: async (attempt: number) => {
        attempts.push(attempt);
        throw Object.assign(new Error('x'), { code });
      },
    };
  };
  for (const code of [14, 8]) {
    const f = failing(code);
    await expect(withRetry(f.fn, policy)).rejects.toMatchObject({ code });
    expect(f.attempts).toEqual([1, 2, 3, 4]);
  }
  const notFound = failing(5);
  await expect(withRetry(notFound.fn, policy)).rejects.toMatchObject({ code: 5 });
  expect(notFound.attempts).toEqual([1]);
  let calls = 0;
  await expect(
    withRetry(async () => (++calls < 3 ? Promise.reject(Object.assign(new Error('busy'), { code: 14 })) : 'ok'), policy),
  ).resolves.toBe('ok');
  expect(calls).toBe(3);
});
