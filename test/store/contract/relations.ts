/**
 * Contract: set memberships, cascading deletes, and scope isolation.
 */
import type { LocationName } from '../../../src/core/names';
import type { CatalogStore } from '../../../src/store/catalog-store';
import type { ContractContext } from './context';
import { A, B, C, image, imageName, product, productName, productSet, seedProductsInSet, setName } from './fixtures';

const ids = <T extends { id: string }>(rs: T[]) => rs.map((r) => r.id);
const ALL = { limit: 100 };

function membershipCases(ctx: ContractContext): void {
  describe('memberships', () => {
    it('add is idempotent; remove reports whether it removed one', async () => {
      await seedProductsInSet(ctx.store(), A, 's1', ['p1']);
      await ctx.store().addProductToSet(setName(A, 's1'), 'p1'); // again
      expect(ids(await ctx.store().listProductsInSet(setName(A, 's1'), ALL))).toEqual(['p1']);
      expect(await ctx.store().removeProductFromSet(setName(A, 's1'), 'p1')).toBe(true);
      expect(await ctx.store().removeProductFromSet(setName(A, 's1'), 'p1')).toBe(false);
      expect(await ctx.store().listProductsInSet(setName(A, 's1'), ALL)).toEqual([]);
      expect(await ctx.store().getProduct(productName(A, 'p1'))).not.toBeNull();
    });

    it('listProductsInSet returns whole product records; listSetsOfProduct returns set ids ascending', async () => {
      await seedProductsInSet(ctx.store(), A, 's2', ['p1', 'p2']);
      await seedProductsInSet(ctx.store(), A, 's1', []);
      await seedProductsInSet(ctx.store(), A, 'S0', []);
      await ctx.store().addProductToSet(setName(A, 's1'), 'p1');
      await ctx.store().addProductToSet(setName(A, 'S0'), 'p1');
      expect(await ctx.store().listProductsInSet(setName(A, 's2'), ALL)).toEqual([product(A, 'p1'), product(A, 'p2')]);
      expect(await ctx.store().listSetsOfProduct(productName(A, 'p1'))).toEqual(['S0', 's1', 's2']);
      expect(await ctx.store().listSetsOfProduct(productName(A, 'p2'))).toEqual(['s2']);
      expect(await ctx.store().listSetsOfProduct(productName(A, 'nope'))).toEqual([]);
      // The same for many products in one read; every id asked for is a key.
      const many = await ctx.store().listSetsOfProducts(A, ['p2', 'nope', 'p1']);
      expect([...many.entries()].sort()).toEqual([
        ['nope', []],
        ['p1', ['S0', 's1', 's2']],
        ['p2', ['s2']],
      ]);
      expect(await ctx.store().listSetsOfProducts(A, [])).toEqual(new Map());
    });

    it('listProductsInSet reflects product updates', async () => {
      await seedProductsInSet(ctx.store(), A, 's1', ['p1']);
      await ctx.store().updateProduct(productName(A, 'p1'), { displayName: 'renamed' }, new Date(5));
      const [p] = await ctx.store().listProductsInSet(setName(A, 's1'), ALL);
      expect(p.displayName).toBe('renamed');
    });

    it('adding with a missing set or product stores nothing', async () => {
      await ctx.store().createProduct(product(A, 'p1'));
      await ctx.store().createProductSet(productSet(A, 's1'));
      await ctx.store().addProductToSet(setName(A, 'ghost-set'), 'p1');
      await ctx.store().addProductToSet(setName(A, 's1'), 'ghost-product');
      expect(await ctx.store().listSetsOfProduct(productName(A, 'p1'))).toEqual([]);
      await ctx.store().createProductSet(productSet(A, 'ghost-set'));
      await ctx.store().createProduct(product(A, 'ghost-product'));
      expect(await ctx.store().listProductsInSet(setName(A, 'ghost-set'), ALL)).toEqual([]);
      expect(await ctx.store().listProductsInSet(setName(A, 's1'), ALL)).toEqual([]);
    });
  });
}

function cascadeCases(ctx: ContractContext): void {
  describe('cascading deletes', () => {
    it('deleting a set removes its memberships and keeps its products', async () => {
      await seedProductsInSet(ctx.store(), A, 's1', ['p1', 'p2']);
      await seedProductsInSet(ctx.store(), A, 's2', []);
      await ctx.store().addProductToSet(setName(A, 's2'), 'p1');
      expect(await ctx.store().deleteProductSet(setName(A, 's1'))).toBe(true);
      expect(ids(await ctx.store().listProducts(A, ALL))).toEqual(['p1', 'p2']);
      expect(await ctx.store().listSetsOfProduct(productName(A, 'p1'))).toEqual(['s2']);
      expect(await ctx.store().listSetsOfProduct(productName(A, 'p2'))).toEqual([]);
      await ctx.store().createProductSet(productSet(A, 's1')); // a new set of the same id starts empty
      expect(await ctx.store().listProductsInSet(setName(A, 's1'), ALL)).toEqual([]);
    });

    it("deleting a product removes its reference images and memberships, nobody else's", async () => {
      await seedProductsInSet(ctx.store(), A, 's1', ['p1', 'p2']);
      for (const id of ['i1', 'i2']) await ctx.store().createReferenceImage(image(A, 'p1', id));
      await ctx.store().createReferenceImage(image(A, 'p2', 'i1'));
      expect(await ctx.store().deleteProduct(productName(A, 'p1'))).toBe(true);
      expect(await ctx.store().getProduct(productName(A, 'p1'))).toBeNull();
      expect(await ctx.store().getReferenceImage(imageName(A, 'p1', 'i1'))).toBeNull();
      expect(ids(await ctx.store().listProductsInSet(setName(A, 's1'), ALL))).toEqual(['p2']);
      expect(ids(await ctx.store().listReferenceImages(productName(A, 'p2'), ALL))).toEqual(['i1']);
      expect(await ctx.store().getProductSet(setName(A, 's1'))).not.toBeNull();
      // A new product of the same id inherits nothing.
      await ctx.store().createProduct(product(A, 'p1'));
      expect(await ctx.store().listReferenceImages(productName(A, 'p1'), ALL)).toEqual([]);
      expect(await ctx.store().listSetsOfProduct(productName(A, 'p1'))).toEqual([]);
    });
  });
}

/** The same ids under A, B (same project) and C (a project named with A's as prefix). */
async function seedScope(s: CatalogStore, scope: LocationName): Promise<void> {
  const tag = `${scope.project}:${scope.location}`;
  await s.createProductSet(productSet(scope, 'set', { displayName: tag }));
  await s.createProduct(product(scope, 'prod', { displayName: tag }));
  await s.createReferenceImage(image(scope, 'prod', 'img', { uri: `gs://${tag}` }));
  await s.addProductToSet(setName(scope, 'set'), 'prod');
}

function isolationCases(ctx: ContractContext): void {
  describe('scope isolation', () => {
    it('the same ids in two projects and two locations never leak across', async () => {
      for (const s of [A, B, C]) await seedScope(ctx.store(), s);
      for (const s of [A, B, C]) {
        const tag = `${s.project}:${s.location}`;
        expect((await ctx.store().getProductSet(setName(s, 'set')))?.displayName).toBe(tag);
        expect((await ctx.store().getProduct(productName(s, 'prod')))?.displayName).toBe(tag);
        expect((await ctx.store().getReferenceImage(imageName(s, 'prod', 'img')))?.uri).toBe(`gs://${tag}`);
        expect((await ctx.store().listProductSets(s, ALL)).map((r) => r.displayName)).toEqual([tag]);
        expect((await ctx.store().listProducts(s, ALL)).map((r) => r.displayName)).toEqual([tag]);
        expect((await ctx.store().listProductsInSet(setName(s, 'set'), ALL)).map((r) => r.displayName)).toEqual([tag]);
        const images = await ctx.store().listReferenceImages(productName(s, 'prod'), ALL);
        expect(images.map((r) => r.uri)).toEqual([`gs://${tag}`]);
      }
    });

    it('writes in one scope never touch another', async () => {
      for (const s of [A, B, C]) await seedScope(ctx.store(), s);
      await ctx.store().updateProductSet(setName(A, 'set'), { displayName: 'changed' }, new Date(9));
      await ctx.store().updateProduct(productName(A, 'prod'), { displayName: 'changed' }, new Date(9));
      await ctx.store().removeProductFromSet(setName(B, 'set'), 'prod');
      await ctx.store().deleteProduct(productName(A, 'prod'));
      await ctx.store().deleteProductSet(setName(A, 'set'));
      for (const s of [B, C]) {
        const tag = `${s.project}:${s.location}`;
        expect((await ctx.store().getProductSet(setName(s, 'set')))?.displayName).toBe(tag);
        expect((await ctx.store().getProduct(productName(s, 'prod')))?.displayName).toBe(tag);
        expect(await ctx.store().getReferenceImage(imageName(s, 'prod', 'img'))).not.toBeNull();
      }
      expect(await ctx.store().listSetsOfProduct(productName(B, 'prod'))).toEqual([]);
      expect(await ctx.store().listSetsOfProduct(productName(C, 'prod'))).toEqual(['set']);
    });
  });
}

export function relationCases(ctx: ContractContext): void {
  membershipCases(ctx);
  cascadeCases(ctx);
  isolationCases(ctx);
}
