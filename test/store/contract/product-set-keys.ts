/**
 * Contract: the enumeration of every scope's sets (listProductSetKeys), which a search
 * index builds from.
 *
 * Order of listProductSetKeys, as both stores implement it: by the tuple
 * (project, location, id), each part compared by code point; `after` is the composite key
 * `${project}/${location}/${id}` of the last stamp seen, split back into that tuple, and
 * the page holds the stamps whose tuple is strictly greater. This is the code-point order
 * of the joined key only if '/' sorts below every other character, which it does not
 * ('-' < '/'): here project 'p1' comes before 'p1-a' and location 'us' before 'us-east1',
 * while the joined strings sort "p1-a/…" < "p1/…" and "p1/us-east1/…" < "p1/us/…".
 * The fixtures below include exactly those pairs, so a store paging over the joined
 * string fails.
 */
import type { LocationName } from '../../../src/core/names';
import type { Page, ProductSetKey } from '../../../src/store/catalog-store';
import { itUnlessGap, type ContractContext } from './context';
import { A, B, C, productSet, setName } from './fixtures';

/** Same project as A and B, a location that has theirs as a prefix / sorts between them. */
const US: LocationName = { project: 'p1', location: 'us' };
/** A project between p1 and p10 ('-' < '0'), which the joined key would put before p1. */
const DASH: LocationName = { project: 'p1-a', location: 'us-east1' };

const keyOf = (s: ProductSetKey) => `${s.project}/${s.location}/${s.id}`;

export function productSetKeyCases(ctx: ContractContext): void {
  const list = (page: Page) => ctx.store().listProductSetKeys(page);
  const keys = async (page: Page) => (await list(page)).map(keyOf);
  const create = async (s: LocationName, id: string) => {
    expect(await ctx.store().createProductSet(productSet(s, id))).toBe(true);
  };
  /** Follows `after` (the last stamp's composite key) until a short page. */
  async function allPages(limit: number): Promise<string[][]> {
    const pages: string[][] = [];
    let after: string | undefined;
    for (;;) {
      const page = await keys(after === undefined ? { limit } : { after, limit });
      pages.push(page);
      if (page.length < limit) return pages;
      after = page[page.length - 1];
      if (pages.length > 50) throw new Error('pagination does not terminate');
    }
  }

  describe('product set keys', () => {
    it('pages over every scope by (project, location, id), `after` being the last composite key', async () => {
      for (const [s, id] of [
        [C, 'a'],
        [DASH, 'a'],
        [A, 'b'],
        [US, 'a'],
        [B, 'b'],
        [A, 'a'],
        [B, 'a'],
        [A, 'a-1'],
      ] as const) {
        await create(s, id);
      }
      const expected = [
        'p1/europe-west1/a',
        'p1/europe-west1/b',
        'p1/us/a',
        'p1/us-east1/a',
        'p1/us-east1/a-1',
        'p1/us-east1/b',
        'p1-a/us-east1/a',
        'p10/us-east1/a',
      ];
      expect(await keys({ limit: 100 })).toEqual(expected);
      const pages = await allPages(3);
      expect(pages.map((p) => p.length)).toEqual([3, 3, 2]);
      expect(pages.flat()).toEqual(expected);
      expect((await allPages(4)).map((p) => p.length)).toEqual([4, 4, 0]); // a full last page, then an empty one
      // `after` is exclusive and need not exist, down to its scope.
      expect(await keys({ after: 'p1/us/a', limit: 2 })).toEqual(['p1/us-east1/a', 'p1/us-east1/a-1']);
      expect(await keys({ after: 'p1/us-central1/zzz', limit: 1 })).toEqual(['p1/us-east1/a']);
      expect(await keys({ after: 'p1/us-east1/zzz', limit: 10 })).toEqual(['p1-a/us-east1/a', 'p10/us-east1/a']);
      expect(await keys({ after: 'p10/us-east1/a', limit: 10 })).toEqual([]);
      expect(await keys({ limit: 0 })).toEqual([]);
    });

    it('deleted sets disappear; sets made past the cursor show', async () => {
      for (const s of [A, B]) for (const id of ['a', 'c']) await create(s, id);
      const first = await keys({ limit: 2 });
      expect(first).toEqual(['p1/europe-west1/a', 'p1/europe-west1/c']);
      expect(await ctx.store().deleteProductSet(setName(B, 'c'))).toBe(true); // the cursor itself goes
      await create(B, 'b'); // before the cursor: not seen again
      expect(await ctx.store().deleteProductSet(setName(A, 'a'))).toBe(true);
      await create(A, 'a'); // made again after the cursor: listed
      expect(await list({ after: first[1], limit: 10 })).toEqual([
        { ...A, id: 'a' },
        { ...A, id: 'c' },
      ]);
      expect(await ctx.store().deleteProductSet(setName(A, 'c'))).toBe(true);
      expect(await keys({ limit: 100 })).toEqual(['p1/europe-west1/a', 'p1/europe-west1/b', 'p1/us-east1/a']);
    });

    const astralTitle = 'orders ids above U+FFFF after U+E000..U+FFFF (code points, not UTF-16)';
    itUnlessGap(ctx.gaps.codePointOrder, astralTitle, async () => {
      for (const id of ['\u{10000}', '\uFFFD', 'z']) await create(A, id);
      expect((await list({ limit: 10 })).map((s) => s.id)).toEqual(['z', '\uFFFD', '\u{10000}']);
      expect((await list({ after: `${A.project}/${A.location}/\uFFFD`, limit: 10 })).map((s) => s.id)).toEqual(['\u{10000}']);
    });
  });
}
