/**
 * Contract: create / get / update / delete of product sets, products and reference images.
 */
import type { RegionRecord } from '../../../src/store/catalog-store';
import type { ContractContext } from './context';
import { A, at, image, imageName, product, productName, productSet, setName } from './fixtures';

/** Bytes that survive only a byte-exact store: every value 0..255, plus a view at an odd
 *  offset into a larger buffer (a store must honour byteOffset/byteLength). */
function regions(): RegionRecord[] {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const backing = new Uint8Array(40).fill(0xee);
  backing.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 3);
  const embedding = new Uint8Array(new Float32Array([0.6, -0.8, 0, 1e-7]).buffer);
  return [
    { box: { x0: 0, y0: 0, x1: 640, y1: 480 }, source: 'whole-image', code: all, embedding },
    { box: { x0: 10, y0: 20, x1: 30.5, y1: 40 }, source: 'request', code: backing.subarray(3, 19) },
    { box: { x0: 1, y0: 2, x1: 3, y1: 4 }, source: 'detected', code: new Uint8Array(0) },
    { box: { x0: 5, y0: 6, x1: 7, y1: 8 }, source: 'detected' },
  ];
}

function expectBytes(actual: Uint8Array | undefined, expected: Uint8Array | undefined): void {
  if (expected === undefined) return expect(actual).toBeUndefined();
  expect(actual).toBeInstanceOf(Uint8Array);
  expect(Buffer.compare(Buffer.from(actual as Uint8Array), Buffer.from(expected))).toBe(0);
}

export function catalogRecordCases(ctx: ContractContext): void {
  describe('product sets', () => {
    it('round-trips every field, dates to the millisecond', async () => {
      const rec = productSet(A, 's1', { displayName: 'Shoes ✓' });
      expect(await ctx.store().createProductSet(rec)).toBe(true);
      const got = await ctx.store().getProductSet(setName(A, 's1'));
      expect(got).toEqual(rec);
      expect(got?.createTime).toBeInstanceOf(Date);
      expect(got?.updateTime.getTime()).toBe(rec.updateTime.getTime());
    });

    it('a create of a taken id resolves false and changes nothing', async () => {
      const rec = productSet(A, 's1');
      await ctx.store().createProductSet(rec);
      const clash = productSet(A, 's1', { displayName: 'other', createTime: at(99) });
      expect(await ctx.store().createProductSet(clash)).toBe(false);
      expect(await ctx.store().getProductSet(setName(A, 's1'))).toEqual(rec);
    });

    it('update patches only the given fields, sets updateTime and keeps createTime', async () => {
      const rec = productSet(A, 's1');
      await ctx.store().createProductSet(rec);
      const updated = await ctx.store().updateProductSet(setName(A, 's1'), { displayName: 'new' }, at(50));
      const expected = { ...rec, displayName: 'new', updateTime: at(50) };
      expect(updated).toEqual(expected);
      expect(await ctx.store().getProductSet(setName(A, 's1'))).toEqual(expected);
      const untouched = await ctx.store().updateProductSet(setName(A, 's1'), {}, at(60));
      expect(untouched).toEqual({ ...expected, updateTime: at(60) });
    });

    it('missing sets: get and update resolve null, delete resolves false', async () => {
      expect(await ctx.store().getProductSet(setName(A, 'nope'))).toBeNull();
      expect(await ctx.store().updateProductSet(setName(A, 'nope'), { displayName: 'x' }, at(1))).toBeNull();
      expect(await ctx.store().deleteProductSet(setName(A, 'nope'))).toBe(false);
      expect(await ctx.store().getProductSet(setName(A, 'nope'))).toBeNull(); // update created nothing
    });

    it('delete removes it once', async () => {
      await ctx.store().createProductSet(productSet(A, 's1'));
      expect(await ctx.store().deleteProductSet(setName(A, 's1'))).toBe(true);
      expect(await ctx.store().getProductSet(setName(A, 's1'))).toBeNull();
      expect(await ctx.store().deleteProductSet(setName(A, 's1'))).toBe(false);
      expect(await ctx.store().createProductSet(productSet(A, 's1'))).toBe(true); // id is free again
    });
  });

  describe('products', () => {
    it('round-trips every field, labels in order', async () => {
      const labels = [
        { key: 'z', value: '1' },
        { key: 'a', value: '' },
        { key: 'z', value: '0' },
      ];
      const rec = product(A, 'p1', { labels });
      expect(await ctx.store().createProduct(rec)).toBe(true);
      expect(await ctx.store().getProduct(productName(A, 'p1'))).toEqual(rec);
    });

    it('a create of a taken id resolves false and changes nothing', async () => {
      const rec = product(A, 'p1');
      await ctx.store().createProduct(rec);
      expect(await ctx.store().createProduct(product(A, 'p1', { description: 'other', labels: [] }))).toBe(false);
      expect(await ctx.store().getProduct(productName(A, 'p1'))).toEqual(rec);
    });

    it('update patches only the given fields; labels are replaced whole', async () => {
      const rec = product(A, 'p1');
      await ctx.store().createProduct(rec);
      const a = await ctx.store().updateProduct(productName(A, 'p1'), { description: 'd2' }, at(50));
      expect(a).toEqual({ ...rec, description: 'd2', updateTime: at(50) });
      const labels = [{ key: 'size', value: 'XL' }];
      const b = await ctx.store().updateProduct(productName(A, 'p1'), { labels, displayName: 'n2' }, at(60));
      const expected = { ...rec, description: 'd2', displayName: 'n2', labels, updateTime: at(60) };
      expect(b).toEqual(expected);
      expect(await ctx.store().getProduct(productName(A, 'p1'))).toEqual(expected);
      expect(await ctx.store().updateProduct(productName(A, 'p1'), { labels: [] }, at(70))).toEqual({
        ...expected,
        labels: [],
        updateTime: at(70),
      });
    });

    it('missing products: get and update resolve null, delete resolves false', async () => {
      expect(await ctx.store().getProduct(productName(A, 'nope'))).toBeNull();
      expect(await ctx.store().updateProduct(productName(A, 'nope'), { description: 'x' }, at(1))).toBeNull();
      expect(await ctx.store().deleteProduct(productName(A, 'nope'))).toBe(false);
      expect(await ctx.store().getProduct(productName(A, 'nope'))).toBeNull();
    });
  });

  describe('reference images', () => {
    beforeEach(async () => {
      await ctx.store().createProduct(product(A, 'p1'));
      await ctx.store().createProduct(product(A, 'p2'));
    });

    it('round-trips every field; region bytes are byte-exact Uint8Arrays', async () => {
      const rec = image(A, 'p1', 'i1', {
        boundingPolys: [
          {
            vertices: [
              { x: 1, y: 2 },
              { x: 30, y: 2 },
              { x: 30, y: 40 },
            ],
            normalized: false,
          },
          {
            vertices: [
              { x: 0.25, y: 0.5 },
              { x: 0.75, y: 0.5 },
              { x: 0.5, y: 1 },
            ],
            normalized: true,
          },
        ],
        state: 'READY',
        regions: regions(),
      });
      expect(await ctx.store().createReferenceImage(rec)).toBe(true);
      const got = await ctx.store().getReferenceImage(imageName(A, 'p1', 'i1'));
      expect(got).not.toBeNull();
      const { regions: gotRegions, ...rest } = got!;
      const { regions: wantRegions, ...wantRest } = rec;
      expect(rest).toEqual(wantRest);
      expect(gotRegions).toHaveLength(wantRegions.length);
      gotRegions.forEach((r, i) => {
        expect(r.box).toEqual(wantRegions[i].box);
        expect(r.source).toBe(wantRegions[i].source);
        expectBytes(r.code, wantRegions[i].code);
        expectBytes(r.embedding, wantRegions[i].embedding);
      });
      const emb = gotRegions[0].embedding!;
      expect(Array.from(new Float32Array(emb.buffer, emb.byteOffset, emb.byteLength / 4))).toEqual(
        Array.from(new Float32Array([0.6, -0.8, 0, 1e-7])),
      );
    });

    it('a create of a taken id resolves false; the same id under another product is distinct', async () => {
      const rec = image(A, 'p1', 'i1');
      expect(await ctx.store().createReferenceImage(rec)).toBe(true);
      expect(await ctx.store().createReferenceImage(image(A, 'p1', 'i1', { uri: 'gs://other/x.png' }))).toBe(false);
      expect(await ctx.store().getReferenceImage(imageName(A, 'p1', 'i1'))).toEqual(rec);
      const other = image(A, 'p2', 'i1', { uri: 'gs://other/y.png' });
      expect(await ctx.store().createReferenceImage(other)).toBe(true);
      expect(await ctx.store().getReferenceImage(imageName(A, 'p2', 'i1'))).toEqual(other);
      expect(await ctx.store().getReferenceImage(imageName(A, 'p1', 'i1'))).toEqual(rec);
    });

    it('never stores an image under a missing product', async () => {
      expect(await ctx.store().createReferenceImage(image(A, 'ghost', 'i1'))).toBe(false);
      expect(await ctx.store().getReferenceImage(imageName(A, 'ghost', 'i1'))).toBeNull();
      await ctx.store().createProduct(product(A, 'ghost'));
      expect(await ctx.store().listReferenceImages(productName(A, 'ghost'), { limit: 10 })).toEqual([]);
    });

    it('updateReferenceImageRegions replaces state, error and regions only', async () => {
      const rec = image(A, 'p1', 'i1', { boundingPolys: [{ vertices: [{ x: 1, y: 1 }], normalized: false }] });
      await ctx.store().createReferenceImage(rec);
      const failed = { state: 'FAILED' as const, error: { code: 3, message: 'bad image' }, regions: [] };
      expect(await ctx.store().updateReferenceImageRegions(imageName(A, 'p1', 'i1'), failed)).toBe(true);
      expect(await ctx.store().getReferenceImage(imageName(A, 'p1', 'i1'))).toEqual({ ...rec, ...failed });
      const ready = { state: 'READY' as const, regions: regions().slice(3) };
      expect(await ctx.store().updateReferenceImageRegions(imageName(A, 'p1', 'i1'), ready)).toBe(true);
      const got = await ctx.store().getReferenceImage(imageName(A, 'p1', 'i1'));
      expect(got).toEqual({ ...rec, ...ready });
      expect(got?.error).toBeUndefined(); // the old error is cleared, not kept
      expect(await ctx.store().updateReferenceImageRegions(imageName(A, 'p1', 'nope'), ready)).toBe(false);
      expect(await ctx.store().getReferenceImage(imageName(A, 'p1', 'nope'))).toBeNull();
    });

    it('updateReferenceImageRegions replaces the polygons too when given', async () => {
      const poly = (x: number, normalized = false) => ({
        vertices: [
          { x, y: 0 },
          { x: x + 1, y: 1 },
        ],
        normalized,
      });
      const rec = image(A, 'p1', 'i1', { boundingPolys: [poly(1)], state: 'READY', regions: regions().slice(0, 1) });
      await ctx.store().createReferenceImage(rec);
      const grown = { state: 'READY' as const, regions: regions().slice(0, 2), boundingPolys: [poly(1), poly(0.5, true)] };
      expect(await ctx.store().updateReferenceImageRegions(imageName(A, 'p1', 'i1'), grown)).toBe(true);
      expect(await ctx.store().getReferenceImage(imageName(A, 'p1', 'i1'))).toEqual({ ...rec, ...grown });
      // Without boundingPolys the stored ones stay.
      const again = { state: 'READY' as const, regions: regions().slice(0, 1) };
      expect(await ctx.store().updateReferenceImageRegions(imageName(A, 'p1', 'i1'), again)).toBe(true);
      expect((await ctx.store().getReferenceImage(imageName(A, 'p1', 'i1')))?.boundingPolys).toEqual(grown.boundingPolys);
    });

    it('delete removes it once and leaves its siblings', async () => {
      await ctx.store().createReferenceImage(image(A, 'p1', 'i1'));
      await ctx.store().createReferenceImage(image(A, 'p1', 'i2'));
      expect(await ctx.store().deleteReferenceImage(imageName(A, 'p1', 'i1'))).toBe(true);
      expect(await ctx.store().deleteReferenceImage(imageName(A, 'p1', 'i1'))).toBe(false);
      expect(await ctx.store().getReferenceImage(imageName(A, 'p1', 'i1'))).toBeNull();
      const left = await ctx.store().listReferenceImages(productName(A, 'p1'), { limit: 10 });
      expect(left.map((r) => r.id)).toEqual(['i2']);
      expect(await ctx.store().getProduct(productName(A, 'p1'))).not.toBeNull();
    });
  });
}
