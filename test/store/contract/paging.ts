/**
 * Contract: every list is keyset-paginated — ids strictly after `after`, ascending by code
 * point, at most `limit` — and stays correct when records come and go between pages.
 * The same cases run against each list method through a small adapter.
 */
import type { CatalogStore, Page } from '../../../src/store/catalog-store';
import type { OperationStore } from '../../../src/store/operation-store';
import { itUnlessGap, type ContractContext } from './context';
import { A, byCodePoint, image, imageName, opName, operation, product, productName, productSet, setName, TRICKY_IDS } from './fixtures';

interface Listable<S> {
  kind: string;
  /** One-time parents (a product for images, a set for memberships). */
  prepare(s: S): Promise<unknown>;
  add(s: S, id: string): Promise<unknown>;
  remove(s: S, id: string): Promise<unknown>;
  list(s: S, page: Page): Promise<string[]>;
}

const ids = <T extends { id: string }>(rs: T[]) => rs.map((r) => r.id);
const none = async () => undefined;

export const CATALOG_LISTABLES: Listable<CatalogStore>[] = [
  {
    kind: 'listProductSets',
    prepare: none,
    add: (s, id) => s.createProductSet(productSet(A, id)),
    remove: (s, id) => s.deleteProductSet(setName(A, id)),
    list: async (s, page) => ids(await s.listProductSets(A, page)),
  },
  {
    kind: 'listProducts',
    prepare: none,
    add: (s, id) => s.createProduct(product(A, id)),
    remove: (s, id) => s.deleteProduct(productName(A, id)),
    list: async (s, page) => ids(await s.listProducts(A, page)),
  },
  {
    kind: 'listReferenceImages',
    prepare: (s) => s.createProduct(product(A, 'owner')),
    add: (s, id) => s.createReferenceImage(image(A, 'owner', id)),
    remove: (s, id) => s.deleteReferenceImage(imageName(A, 'owner', id)),
    list: async (s, page) => ids(await s.listReferenceImages(productName(A, 'owner'), page)),
  },
  {
    kind: 'listProductsInSet',
    prepare: (s) => s.createProductSet(productSet(A, 'set')),
    add: async (s, id) => {
      await s.createProduct(product(A, id));
      await s.addProductToSet(setName(A, 'set'), id);
    },
    remove: (s, id) => s.removeProductFromSet(setName(A, 'set'), id),
    list: async (s, page) => ids(await s.listProductsInSet(setName(A, 'set'), page)),
  },
];

export const OPERATION_LISTABLES: Listable<OperationStore>[] = [
  {
    kind: 'listOperations (location)',
    prepare: none,
    add: (s, id) => s.createOperation(operation(A.project, A.location, id)),
    remove: (s, id) => s.deleteOperation(opName(A.project, A.location, id)),
    list: async (s, page) => ids(await s.listOperations({ project: A.project, location: A.location }, page)),
  },
  {
    kind: 'listOperations (project-level)',
    prepare: none,
    add: (s, id) => s.createOperation(operation(A.project, null, id)),
    remove: (s, id) => s.deleteOperation(opName(A.project, null, id)),
    list: async (s, page) => ids(await s.listOperations({ project: A.project, location: null }, page)),
  },
];

async function seed<S>(s: S, l: Listable<S>, idList: string[]): Promise<void> {
  await l.prepare(s);
  for (const id of idList) await l.add(s, id);
}

/** Follows `after` from page to page until a short page; returns the pages. */
async function allPages<S>(s: S, l: Listable<S>, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let after: string | undefined;
  for (;;) {
    const page = await l.list(s, after === undefined ? { limit } : { after, limit });
    pages.push(page);
    if (page.length < limit) return pages;
    after = page[page.length - 1];
    if (pages.length > 50) throw new Error('pagination does not terminate');
  }
}

export function pagingCases<S>(ctx: ContractContext<S>, listables: Listable<S>[]): void {
  describe.each(listables)('keyset pagination: $kind', (l) => {
    it('pages through every id once, in code-point order, at most `limit` per page', async () => {
      await seed(ctx.store(), l, TRICKY_IDS);
      const expected = [...TRICKY_IDS].sort(byCodePoint);
      expect(await l.list(ctx.store(), { limit: 100 })).toEqual(expected);
      const pages = await allPages(ctx.store(), l, 3);
      expect(pages.map((p) => p.length)).toEqual([3, 3, 3, 1]);
      expect(pages.flat()).toEqual(expected);
      const exact = await allPages(ctx.store(), l, 5); // a full last page is followed by an empty one
      expect(exact.map((p) => p.length)).toEqual([5, 5, 0]);
    });

    it('`after` is exclusive and need not exist; changes between pages show only past the cursor', async () => {
      await seed(ctx.store(), l, ['a', 'c', 'e', 'g']);
      expect(await l.list(ctx.store(), { limit: 2 })).toEqual(['a', 'c']);
      await l.remove(ctx.store(), 'c'); // the cursor itself disappears
      await l.add(ctx.store(), 'b'); // lands before the cursor: not seen again
      await l.add(ctx.store(), 'd'); // lands after it: seen
      expect(await l.list(ctx.store(), { after: 'c', limit: 2 })).toEqual(['d', 'e']);
      await l.remove(ctx.store(), 'g');
      expect(await l.list(ctx.store(), { after: 'e', limit: 2 })).toEqual([]);
      expect(await l.list(ctx.store(), { after: 'a', limit: 10 })).toEqual(['b', 'd', 'e']);
      expect(await l.list(ctx.store(), { after: 'zzz', limit: 10 })).toEqual([]);
    });

    const astralTitle = 'orders ids above U+FFFF after U+E000..U+FFFF (code points, not UTF-16)';
    itUnlessGap(ctx.gaps.codePointOrder, astralTitle, async () => {
      const astral = ['z', '\u{1F600}', '\uFFFD', '\uE000', '\u{10000}'];
      await seed(ctx.store(), l, astral);
      expect(await l.list(ctx.store(), { limit: 10 })).toEqual(['z', '\uE000', '\uFFFD', '\u{10000}', '\u{1F600}']);
      expect(await l.list(ctx.store(), { after: '\uFFFD', limit: 10 })).toEqual(['\u{10000}', '\u{1F600}']);
    });
  });
}
