/**
 * The proto3 JSON input rules Google's REST front end applies and proto3-json-serializer
 * (installed through google-gax) does not: that library drops snake_case and unknown
 * fields, unknown enum names and undecodable base64 silently, wraps an out-of-range int32
 * to 0 and leaves FieldMask paths in camelCase (docs/architecture.md, "Libraries considered").
 */
import { fromJson, toJson } from '../../src/api/proto/json-codec';
import { loadRoot, lookupType } from '../../src/api/proto/load';

loadRoot();
const T = (name: string) => lookupType(`google.cloud.vision.v1.${name}`);
const invalid = (message: RegExp) => expect.objectContaining({ code: 3, message: expect.stringMatching(message) });

test('snake_case and lowerCamelCase names are both accepted', () => {
  const snake = fromJson(T('Product'), { display_name: 'x', product_category: 'toys-v2' });
  expect(snake).toMatchObject({ displayName: 'x', productCategory: 'toys-v2' });
  expect(fromJson(T('Product'), { displayName: 'x', productCategory: 'toys-v2' })).toEqual(snake);
});

test("an unknown field is refused with Google's message", () => {
  expect(() => fromJson(T('Product'), { displayName: 'x', nope: 1 }, 'product')).toThrow(
    invalid(/^Invalid JSON payload received\. Unknown name "nope" at 'product'\.$/),
  );
  // Inherited object properties are not fields either.
  expect(() => fromJson(T('Product'), JSON.parse('{"__proto__": {}}'))).toThrow(invalid(/Unknown name "__proto__"/));
});

test('enums: names or numbers in; an unknown one refused; names out, numbers when asked', () => {
  expect(fromJson(T('Feature'), { type: 'PRODUCT_SEARCH' })).toMatchObject({ type: 'PRODUCT_SEARCH' });
  expect(fromJson(T('Feature'), { type: 12 })).toMatchObject({ type: 'PRODUCT_SEARCH' });
  expect(() => fromJson(T('Feature'), { type: 'NOPE' }, 'feature')).toThrow(invalid(/^Invalid value at 'feature\.type'.*"NOPE"/));
  const meta = { state: 'SUCCESSFUL', submitTime: { seconds: '1', nanos: 5_000_000 } };
  expect(toJson(T('BatchOperationMetadata'), meta)).toEqual({ state: 'SUCCESSFUL', submitTime: '1970-01-01T00:00:01.005Z' });
  expect(toJson(T('BatchOperationMetadata'), meta, { enumsAsInt: true })).toEqual({ state: 2, submitTime: '1970-01-01T00:00:01.005Z' });
});

test('bytes: standard or URL-safe base64; anything else refused', () => {
  expect((fromJson(T('Image'), { content: '+/8=' }).content as Buffer).toString('hex')).toBe('fbff');
  expect((fromJson(T('Image'), { content: '-_8=' }).content as Buffer).toString('hex')).toBe('fbff');
  expect(() => fromJson(T('Image'), { content: '!!!' }, 'image')).toThrow(invalid(/^Invalid value at 'image\.content': invalid base64/));
});

test("integers out of their type's range are refused, not wrapped", () => {
  expect(fromJson(T('Feature'), { maxResults: '5' })).toMatchObject({ maxResults: 5 });
  expect(() => fromJson(T('Feature'), { maxResults: 2 ** 40 })).toThrow(invalid(/TYPE_INT32.*out of range/));
});

test('a FieldMask string becomes snake_case paths', () => {
  expect(fromJson(T('UpdateProductRequest'), { updateMask: 'productLabels,displayName' })).toMatchObject({
    updateMask: { paths: ['product_labels', 'display_name'] },
  });
});
