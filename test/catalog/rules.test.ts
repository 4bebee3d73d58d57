/** Google's Product Search validation rules (product_search_service.proto), each at its boundary. */
import * as rules from '../../src/catalog/rules';
import { checkRectangle } from '../../src/core/rectangle-rule';

const invalid = (message: string | RegExp) =>
  expect.objectContaining({ code: 3, message: typeof message === 'string' ? message : expect.stringMatching(message) });

test('resource ids: assigned when absent; at most 128 characters; no "/", control characters, "." or ".."', () => {
  const assigned = new Set(Array.from({ length: 50 }, () => rules.resourceId(undefined, 'product_id')));
  expect(assigned.size).toBe(50);
  for (const id of assigned) expect(id).toMatch(/^[0-9a-f]{16}$/);
  expect(rules.resourceId('x'.repeat(128), 'product_id')).toHaveLength(128);
  expect(rules.resourceId('a.b ünï', 'product_id')).toBe('a.b ünï');
  expect(() => rules.resourceId('x'.repeat(129), 'product_id')).toThrow(invalid('product_id must be at most 128 characters.'));
  expect(() => rules.resourceId('a/b', 'product_id')).toThrow(invalid('product_id cannot contain the character "/".'));
  for (const c of ['\u0000', '\t', '\u001f', '\u007f', '\u0085', '\u009f']) {
    expect(() => rules.resourceId(`a${c}b`, 'product_set_id')).toThrow(invalid('product_set_id cannot contain control characters.'));
  }
  for (const dots of ['.', '..']) expect(() => rules.resourceId(dots, 'product_id')).toThrow(invalid('product_id cannot be "." or "..".'));
  expect(rules.resourceId('...', 'product_id')).toBe('...');
});

test('text: at most 4096 characters; control characters only as tabs and line breaks in multiline text', () => {
  expect(() => rules.requiredText(undefined, 'product.display_name')).toThrow(invalid('Missing required field: product.display_name.'));
  expect(() => rules.requiredText('', 'product.display_name')).toThrow(invalid('Missing required field: product.display_name.'));
  expect(rules.optionalText(undefined, 'd')).toBe('');
  expect(rules.optionalText('x'.repeat(4096), 'd')).toHaveLength(4096);
  expect(() => rules.optionalText('x'.repeat(4097), 'd')).toThrow(invalid('d must be at most 4096 characters.'));
  expect(rules.optionalText('a\tb\r\nc', 'product.description', true)).toBe('a\tb\r\nc');
  expect(() => rules.optionalText('a\nb', 'product.display_name')).toThrow(
    invalid('product.display_name cannot contain control characters.'),
  );
  expect(() => rules.optionalText('a\u0007b', 'product.description', true)).toThrow(
    invalid('product.description cannot contain control characters.'),
  );
});

test('categories: the current and legacy ones Google accepts, nothing else', () => {
  for (const c of rules.PRODUCT_CATEGORIES) expect(rules.productCategory(c)).toBe(c);
  expect(() => rules.productCategory(undefined)).toThrow(invalid('Missing required field: product_category.'));
  for (const c of ['packagedgoods', 'Apparel-v2', 'apparel-v1', 'general']) {
    expect(() => rules.productCategory(c)).toThrow(invalid(new RegExp(`^Invalid product_category "${c}": must be one of homegoods-v2, `)));
  }
});

test('labels: at most 500, keys and values non-empty, at most 128 UTF-8 bytes, no control characters', () => {
  expect(rules.labels(undefined)).toEqual([]);
  const kv = (key: string, value: string) => ({ key, value });
  expect(rules.labels([kv('color', 'red'), kv('ü'.repeat(64), 'v')])).toEqual([kv('color', 'red'), kv('ü'.repeat(64), 'v')]);
  expect(rules.labels(Array.from({ length: 500 }, (_, i) => kv('k', String(i))))).toHaveLength(500);
  expect(() => rules.labels(Array.from({ length: 501 }, () => kv('k', 'v')))).toThrow(
    invalid('A product can have at most 500 product_labels.'),
  );
  expect(() => rules.labels([kv('k', 'v'), kv('', 'v')])).toThrow(invalid('product_labels[1].key must not be empty.'));
  expect(() => rules.labels([kv('k', '')])).toThrow(invalid('product_labels[0].value must not be empty.'));
  // 65 two-byte characters are 130 bytes though only 65 characters.
  expect(() => rules.labels([kv('ü'.repeat(65), 'v')])).toThrow(invalid('product_labels[0].key must be at most 128 bytes.'));
  expect(() => rules.labels([kv('k', 'a\nb')])).toThrow(invalid('product_labels[0].value cannot contain control characters.'));
});

test('reference image URIs: gs://bucket/object only', () => {
  expect(rules.imageUri('gs://b/o/with/path.jpg')).toBe('gs://b/o/with/path.jpg');
  expect(() => rules.imageUri(undefined)).toThrow(invalid('Missing required field: reference_image.uri.'));
  for (const uri of ['gs://bucket', 'gs://bucket/', 'gs:///o', 'https://example.com/a.jpg', 'GS://b/o']) {
    expect(() => rules.imageUri(uri)).toThrow(invalid(/expected gs:\/\/bucket\/object\.$/));
  }
  expect(() => rules.imageUri(`gs://b/${'o'.repeat(4096)}`)).toThrow(invalid('reference_image.uri must be at most 4096 characters.'));
});

test('bounding polys: at most 10; pixel rectangles at least 300 px on the short side and no worse than 1:4', () => {
  const rect = (w: number, h: number) => ({
    vertices: [
      { x: 0, y: 0 },
      { x: w, y: 0 },
      { x: w, y: h },
      { x: 0, y: h },
    ],
  });
  expect(rules.referencePolys(undefined)).toEqual([]);
  expect(rules.referencePolys([rect(300, 1200)])).toEqual([{ vertices: rect(300, 1200).vertices, normalized: false }]);
  expect(() => rules.referencePolys([rect(299, 600)])).toThrow(
    invalid(/^reference_image\.bounding_polys\[0\]: the bounding rectangle's short side is 299 px/),
  );
  expect(() => rules.referencePolys([rect(300, 1201)])).toThrow(
    invalid("reference_image.bounding_polys[0]: the bounding rectangle's aspect ratio is worse than 1:4."),
  );
  expect(() => rules.referencePolys(Array.from({ length: 11 }, () => rect(400, 400)))).toThrow(invalid(/has 11 polygons; at most 10/));
  expect(() => rules.referencePolys([{}])).toThrow(invalid('reference_image.bounding_polys[0] has no vertices.'));
  const both = { vertices: rect(400, 400).vertices, normalizedVertices: [{ x: 0, y: 0 }] };
  expect(() => rules.referencePolys([both])).toThrow(invalid(/give vertices or normalized_vertices, not both/));
});

test('normalized polys: kept for ingestion (the size rule needs the image), but only within [0, 1]', () => {
  const norm = [
    { x: 0, y: 0 },
    { x: 0.01, y: 1 },
  ];
  expect(rules.referencePolys([{ normalizedVertices: norm }])).toEqual([{ vertices: norm, normalized: true }]);
  expect(() =>
    rules.referencePolys([
      {
        normalizedVertices: [
          { x: 0, y: 0 },
          { x: 1.01, y: 1 },
        ],
      },
    ]),
  ).toThrow(invalid(/normalized_vertices must lie in \[0, 1\]/));
  expect(() => rules.referencePolys([{ normalizedVertices: [{ x: -0.1, y: 0 }] }])).toThrow(
    invalid(/normalized_vertices must lie in \[0, 1\]/),
  );
  // At ingestion the same rule applies once scaled to the image (here 1000 x 800).
  expect(() =>
    checkRectangle(
      [
        { x: 0, y: 0 },
        { x: 0.5, y: 0.3 },
      ],
      1000,
      'p',
      800,
    ),
  ).toThrow(invalid(/short side is 240 px/));
  expect(() =>
    checkRectangle(
      [
        { x: 0, y: 0 },
        { x: 0.5, y: 0.5 },
      ],
      1000,
      'p',
      800,
    ),
  ).not.toThrow();
});

test('a product joins another set only while in fewer than the maximum', () => {
  expect(() => rules.roomForAnotherSet('p', 99, 100)).not.toThrow();
  expect(() => rules.roomForAnotherSet('p', 100, 100)).toThrow(
    expect.objectContaining({ code: 9, message: 'Product p is already in 100 product sets, the most allowed.' }),
  );
});
