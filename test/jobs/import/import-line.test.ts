/** One import line: Google's columns, checked with the catalog's own rules. */
import { imageIdFor, parseImportLine } from '../../../src/jobs/import/import-line';

const bad = (text: string) => {
  try {
    parseImportLine(7, text);
  } catch (e) {
    return { code: (e as { code: number }).code, message: (e as Error).message };
  }
  throw new Error(`accepted: ${text}`);
};

test('a full line: labels, display name, pixel and normalized polygons', () => {
  expect(parseImportLine(0, 'gs://b/shoe.jpg,front,shoes,s1,apparel-v2,Red shoe,"color=red,size=9","0,0,400,0,400,300,0,300"')).toEqual({
    uri: 'gs://b/shoe.jpg',
    imageId: 'front',
    productSetId: 'shoes',
    productId: 's1',
    category: 'apparel-v2',
    displayName: 'Red shoe',
    labels: [
      { key: 'color', value: 'red' },
      { key: 'size', value: '9' },
    ],
    poly: {
      vertices: [
        { x: 0, y: 0 },
        { x: 400, y: 0 },
        { x: 400, y: 300 },
        { x: 0, y: 300 },
      ],
      normalized: false,
    },
  });
  const norm = parseImportLine(1, ' gs://b/a.jpg , , s , p , general-v1 ,,, "0.1,0.1,0.9,0.1,0.9,0.9" ');
  expect(norm).toMatchObject({ imageId: imageIdFor('gs://b/a.jpg'), displayName: ' ', labels: [], poly: { normalized: true } });
  expect(parseImportLine(2, 'gs://b/a.jpg,,s,p,general-v1')).toMatchObject({ imageId: imageIdFor('gs://b/a.jpg') });
  expect(imageIdFor('gs://b/a.jpg')).toMatch(/^[0-9a-f]{16}$/);
  expect(imageIdFor('gs://b/a.jpg')).not.toBe(imageIdFor('gs://b/b.jpg'));
});

test.each([
  ['', /Line 7: the line is empty/],
  ['gs://b/a.jpg,,s', /missing required column product-id/],
  [',,s,p,general-v1', /missing required column image-uri/],
  ['https://x/a.jpg,,s,p,general-v1', /expected gs:\/\/bucket\/object/],
  ['gs://b/a.jpg,a/b,s,p,general-v1', /image-id cannot contain/],
  ['gs://b/a.jpg,,s,p,general-v1,,color', /labels: "color" is not key=value/],
  ['gs://b/a.jpg,,s,p,general-v1,,=v', /product_labels\[0\]\.key must not be empty/],
  ['gs://b/a.jpg,,s,p,general-v1,,,"1,2,3"', /bounding-poly: give an even number/],
  ['gs://b/a.jpg,,s,p,general-v1,,,"0,0,-5,0,5,5"', /non-negative numbers/],
  ['gs://b/a.jpg,,s,p,general-v1,,,"0,0,100,0,100,100,0,100"', /short side is 100 px/],
  ['gs://b/a.jpg,,s,p,general-v1,,,"0.1,0.1,1.5,0.1,1.5,0.9"', /normalized_vertices must lie in \[0, 1\]/],
  ['"gs://b/a.jpg,,s,p,general-v1', /not a CSV line/],
  ['gs://b/a.jpg,,s,p,general-v1,,,,extra', /9 columns; there are at most 8/],
])('%j is INVALID_ARGUMENT', (text, message) => {
  const e = bad(text);
  expect(e.code).toBe(3);
  expect(e.message).toMatch(/^Line 7: /);
  expect(e.message).toMatch(message);
});

test('the category is kept as given: it is checked only when the product must be created', () => {
  expect(parseImportLine(0, 'gs://b/a.jpg,,s,p,furniture-v9').category).toBe('furniture-v9');
});
