/**
 * Contract: the index change feed (appendIndexChanges, listIndexChanges, indexFeedHead,
 * trimIndexChanges) and the enumeration of every scope's sets (listProductSetKeys).
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
import { A, at, B, C, productSet, setName } from './fixtures';

/** Same project as A and B, a location that has theirs as a prefix / sorts between them. */
const US: LocationName = { project: 'p1', location: 'us' };
/** A project between p1 and p10 ('-' < '0'), which the joined key would put before p1. */
const DASH: LocationName = { project: 'p1-a', location: 'us-east1' };

const keyOf = (s: ProductSetKey) => `${s.project}/${s.location}/${s.id}`;

export function indexFeedCases(ctx: ContractContext): void {
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

  describe('index change feed', () => {
    const feed = () => ctx.store();
    it('appends in order with increasing seqs, returns them, and lists after a position', async () => {
      const head0 = await feed().indexFeedHead();
      expect(head0.feedId).toMatch(/^[0-9a-f]{16,}$/);
      expect(await feed().appendIndexChanges(A, [], at(1))).toEqual([]);
      const s1 = await feed().appendIndexChanges(A, [{ setId: 's1', productId: 'p1' }, { setId: 's2' }], at(5));
      const s2 = await feed().appendIndexChanges(B, [{ setId: 's1', productId: 'p\u{10000}' }], at(6));
      expect(s1).toHaveLength(2);
      expect(s1[1]).toBeGreaterThan(s1[0]);
      expect(s2[0]).toBeGreaterThan(s1[1]);
      expect(s1[0]).toBeGreaterThan(head0.seq);
      const all = await feed().listIndexChanges(head0.seq, 10);
      expect(all).toEqual([
        { ...A, seq: s1[0], setId: 's1', productId: 'p1', time: at(5) },
        { ...A, seq: s1[1], setId: 's2', time: at(5) },
        { ...B, seq: s2[0], setId: 's1', productId: 'p\u{10000}', time: at(6) },
      ]);
      expect(all[0].time).toBeInstanceOf(Date);
      expect(await feed().listIndexChanges(s1[0], 1)).toEqual([all[1]]);
      expect(await feed().listIndexChanges(s2[0], 10)).toEqual([]);
      expect(await feed().listIndexChanges(head0.seq, 0)).toEqual([]);
      expect(await feed().indexFeedHead()).toEqual({ feedId: head0.feedId, seq: s2[0] });
    });

    it('trims changes stored before a time; seqs are never reused after a trim', async () => {
      const [old] = await feed().appendIndexChanges(A, [{ setId: 's1', productId: 'a' }], at(10));
      const [kept] = await feed().appendIndexChanges(A, [{ setId: 's1', productId: 'b' }], at(20));
      expect(await feed().trimIndexChanges(at(15))).toBe(1);
      expect((await feed().listIndexChanges(0, 10)).map((c) => c.seq)).toEqual([kept]);
      expect(await feed().trimIndexChanges(at(100))).toBe(1);
      expect(await feed().listIndexChanges(0, 10)).toEqual([]);
      const [next] = await feed().appendIndexChanges(A, [{ setId: 's1' }], at(30));
      expect(next).toBeGreaterThan(kept);
      expect(old).toBeLessThan(kept);
      expect((await feed().indexFeedHead()).seq).toBe(next);
    });

    it('concurrent appends never share a seq', async () => {
      const batches = await Promise.all(Array.from({ length: 8 }, (_, i) => feed().appendIndexChanges(A, [{ setId: `s${i}`, productId: 'p' }, { setId: `s${i}` }], at(1))));
      const seqs = batches.flat();
      expect(new Set(seqs).size).toBe(16);
      expect((await feed().listIndexChanges(0, 100)).map((c) => c.seq)).toEqual([...seqs].sort((a, b) => a - b));
    });
  });

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
      expect((await list({ after: `${A.project}/${A.location}/\uFFFD`, limit: 10 })).map((s) => s.id)).toEqual([
        '\u{10000}',
      ]);
    });
  });
}
