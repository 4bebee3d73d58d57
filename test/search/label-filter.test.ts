import { labelPredicate, parseLabelFilter } from '../../src/search/label-filter';

const L = (...kv: string[]) => kv.map((s) => ({ key: s.split('=')[0], value: s.split('=')[1] }));

test("parses Google's AND of OR-groups, with or without parentheses", () => {
  expect(parseLabelFilter('(color = red OR color = blue) AND brand = Google')).toEqual({
    groups: [
      { key: 'color', values: ['red', 'blue'] },
      { key: 'brand', values: ['Google'] },
    ],
  });
  expect(parseLabelFilter('color=red OR color=blue AND brand="Acme Inc"')).toEqual({
    groups: [
      { key: 'color', values: ['red', 'blue'] },
      { key: 'brand', values: ['Acme Inc'] },
    ],
  });
  expect(parseLabelFilter('   ')).toBeNull();
});

test('matches labels', () => {
  const p = labelPredicate(parseLabelFilter('(color = red OR color = blue) AND brand = Google'));
  expect(p(L('color=red', 'brand=Google'))).toBe(true);
  expect(p(L('color=blue', 'brand=Google', 'size=9'))).toBe(true);
  expect(p(L('color=green', 'brand=Google'))).toBe(false);
  expect(p(L('color=red'))).toBe(false);
  expect(labelPredicate(null)([])).toBe(true);
});

test.each([
  ['color : red', 7, /":" operator is not supported/],
  ['color = red OR size = small', 13, /OR can only combine values of one key/],
  ['color red', 7, /expected "=" after key "color"/],
  ['color =', 8, /expected a value/],
  ['(color = red', 13, /expected "\)"/],
  ['color = red AND', 16, /expected a label key/],
  ['color = red brand = x', 13, /unexpected "brand"/],
  ['brand = "Acme', 9, /unterminated/],
])('rejects %p at position %p', (text, pos, message) => {
  expect(() => parseLabelFilter(text)).toThrow(expect.objectContaining({ code: 3, message: expect.stringMatching(message) }));
  expect(() => parseLabelFilter(text)).toThrow(new RegExp(`position ${pos}:`));
});
