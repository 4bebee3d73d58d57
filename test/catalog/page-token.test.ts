/**
 * Page tokens: a token continues only the listing it came from, and anything else (edited,
 * truncated, from another parent or another collection, another version) is INVALID_ARGUMENT.
 * Tokens do not expire: keyset paging stays correct however long a client waits.
 */
import { checkPageSize, decodePageToken, DEFAULT_PAGE_SIZE, encodePageToken, MAX_PAGE_SIZE, paginate } from '../../src/catalog/page-token';

const LISTING = 'products:projects/p/locations/l';
const bad = expect.objectContaining({ code: 3, message: 'Invalid page token.' });
const decodeJson = (t: string) => JSON.parse(Buffer.from(t, 'base64url').toString('utf8')) as Record<string, unknown>;
const encodeJson = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

test('a token decodes to the id it was made from, in its own listing; none means the first page', () => {
  for (const id of ['a', 'ünï ✓', '\u{10000}', '']) expect(decodePageToken(LISTING, encodePageToken(LISTING, id))).toBe(id);
  expect(decodePageToken(LISTING, undefined)).toBeUndefined();
  expect(decodePageToken(LISTING, '')).toBeUndefined();
});

test('a token of another parent or another collection is refused', () => {
  const token = encodePageToken(LISTING, 'k');
  expect(() => decodePageToken('products:projects/p/locations/other', token)).toThrow(bad);
  expect(() => decodePageToken('products:projects/q/locations/l', token)).toThrow(bad);
  expect(() => decodePageToken('productSets:projects/p/locations/l', token)).toThrow(bad);
});

test('tampered tokens are refused', () => {
  const token = encodePageToken(LISTING, 'k');
  const body = decodeJson(token);
  for (const forged of [
    token.slice(0, -3), // truncated
    token + 'x', // garbage appended
    'not base64 at all!',
    encodeJson({ ...body, l: 'AAAAAAAAAAAA' }), // another fingerprint
    encodeJson({ ...body, v: 2 }), // a version this build does not know
    encodeJson({ ...body, k: 7 }), // a non-string key
    encodeJson({ l: body.l, v: 1 }), // no key
    encodeJson([body]),
    encodeJson(null),
  ]) {
    expect(() => decodePageToken(LISTING, forged)).toThrow(bad);
  }
});

test('the key is not a secret: a hand-made token of the same listing only moves the cursor within it', () => {
  const body = decodeJson(encodePageToken(LISTING, 'k'));
  expect(decodePageToken(LISTING, encodeJson({ ...body, k: 'm' }))).toBe('m');
});

test('page sizes: 0 or absent is the default, 1..100 as given, anything else refused', () => {
  expect(checkPageSize(undefined)).toBe(DEFAULT_PAGE_SIZE);
  expect(checkPageSize(0)).toBe(DEFAULT_PAGE_SIZE);
  expect(checkPageSize(1)).toBe(1);
  expect(checkPageSize(MAX_PAGE_SIZE)).toBe(100);
  for (const n of [-1, 101, 1.5, NaN])
    expect(() => checkPageSize(n)).toThrow(expect.objectContaining({ code: 3, message: expect.stringMatching(/^Invalid page_size/) }));
});

test('paginate asks for one more than the page, and hands out a token only when more follow', async () => {
  const ids = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id }));
  const asked: [string | undefined, number][] = [];
  const fetch = async (after: string | undefined, limit: number) => {
    asked.push([after, limit]);
    return ids.filter((r) => after === undefined || r.id > after).slice(0, limit);
  };
  const first = await paginate(LISTING, 2, undefined, fetch);
  expect(first.items.map((r) => r.id)).toEqual(['a', 'b']);
  const second = await paginate(LISTING, 2, first.nextPageToken, fetch);
  expect(second.items.map((r) => r.id)).toEqual(['c', 'd']);
  const last = await paginate(LISTING, 2, second.nextPageToken, fetch);
  expect(last).toEqual({ items: [{ id: 'e' }], nextPageToken: '' });
  const exact = await paginate(LISTING, 5, undefined, fetch);
  expect(exact.nextPageToken).toBe(''); // a full last page has no token to an empty one
  expect(asked).toEqual([
    [undefined, 3],
    ['b', 3],
    ['d', 3],
    [undefined, 6],
  ]);
  await expect(paginate('other', 2, first.nextPageToken, fetch)).rejects.toEqual(bad);
});
