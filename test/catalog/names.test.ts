/** Resource names: every template parses and renders back to the same string; every malformed form is INVALID_ARGUMENT naming the field. */
import { names } from '../../src/core/names';

const invalid = (field: string) => expect.objectContaining({ code: 3, message: expect.stringContaining(field) });

describe('round trips', () => {
  test.each([
    ['parseLocation', 'location', 'projects/p-1/locations/us-east1', { project: 'p-1', location: 'us-east1' }],
    ['parseProductSet', 'productSet', 'projects/p/locations/l/productSets/s.1', { project: 'p', location: 'l', productSet: 's.1' }],
    ['parseProduct', 'product', 'projects/p/locations/l/products/ünïcode ✓', { project: 'p', location: 'l', product: 'ünïcode ✓' }],
    [
      'parseReferenceImage',
      'referenceImage',
      'projects/p/locations/l/products/x/referenceImages/r_1',
      { project: 'p', location: 'l', product: 'x', referenceImage: 'r_1' },
    ],
    ['parseOperation', 'operation', 'projects/p/locations/l/operations/abc', { project: 'p', location: 'l', operation: 'abc' }],
    ['parseOperation', 'operation', 'projects/p/operations/abc', { project: 'p', location: null, operation: 'abc' }],
  ] as const)('%s(%s)', (parse, render, name, parsed) => {
    const got = (names[parse] as (v: unknown) => unknown)(name);
    expect(got).toEqual(parsed);
    expect((names[render] as (n: unknown) => string)(got)).toBe(name);
  });

  test('parseProjectScope takes a project or a location, with null for no location', () => {
    expect(names.parseProjectScope('projects/p', 'parent')).toEqual({ project: 'p', location: null });
    expect(names.parseProjectScope('projects/p/locations/l', 'parent')).toEqual({ project: 'p', location: 'l' });
  });
});

describe('invalid forms', () => {
  test.each([undefined, null, '', 42])('missing (%p) is "Missing required field" with the field name', (v) => {
    expect(() => names.parseProduct(v, 'product.name')).toThrow(
      expect.objectContaining({ code: 3, message: 'Missing required field: product.name.' }),
    );
    expect(() => names.parseOperation(v)).toThrow(invalid('Missing required field: name'));
  });

  test.each([
    'projects/p/locations/l/products', // no id
    'projects/p/locations/l/products/', // empty id
    'projects/p/locations/l/products/a/b', // one segment too many
    '/projects/p/locations/l/products/a', // leading slash
    'projects/p/locations/l/products/a/', // trailing slash
    'projects//locations/l/products/a', // empty project
    'projects/p/location/l/products/a', // wrong collection
    'projects/p/locations/l/productSets/a', // another resource type
    'Projects/p/locations/l/products/a', // collections are case-sensitive
    'projects/p/locations/l/products/a\nb', // control character
    'projects/p/locations/l/products/a\u007f', // DEL
    ' projects/p/locations/l/products/a', // leading space
  ])('product name %j is refused', (v) => {
    expect(() => names.parseProduct(v)).toThrow(
      expect.objectContaining({
        code: 3,
        message: expect.stringMatching(/^Invalid name ".*": expected a projects\/\*\/locations\/\*\/products\/\* resource name\.$/s),
      }),
    );
  });

  test('each parser refuses the other templates', () => {
    const all = {
      location: 'projects/p/locations/l',
      productSet: 'projects/p/locations/l/productSets/s',
      product: 'projects/p/locations/l/products/x',
      referenceImage: 'projects/p/locations/l/products/x/referenceImages/r',
    };
    const parsers = {
      location: names.parseLocation,
      productSet: names.parseProductSet,
      product: names.parseProduct,
      referenceImage: names.parseReferenceImage,
    };
    for (const [kind, parse] of Object.entries(parsers)) {
      for (const [other, name] of Object.entries(all)) {
        if (other === kind) expect(() => parse(name)).not.toThrow();
        else expect(() => parse(name)).toThrow(expect.objectContaining({ code: 3 }));
      }
    }
    expect(() => names.parseOperation('projects/p/locations/l')).toThrow(invalid('expected an operation resource name'));
    expect(() => names.parseOperation('projects/p/locations/l/operations/a/b')).toThrow(invalid('expected an operation resource name'));
    expect(() => names.parseProjectScope('projects/p/locations/l/products/x', 'parent')).toThrow(
      invalid('expected projects/* or projects/*/locations/*'),
    );
    expect(() => names.parseProjectScope(undefined, 'parent')).toThrow(invalid('Invalid parent ""'));
  });

  test('a long invalid name is quoted truncated to 200 characters', () => {
    const long = 'x'.repeat(1000);
    try {
      names.parseLocation(long);
      throw new Error('accepted');
    } catch (e) {
      expect((e as Error).message).toBe(`Invalid parent "${'x'.repeat(200)}…": expected a projects/*/locations/* resource name.`);
    }
  });
});
