/**
 * METAPIXEL_RERANK_BITS end to end (issue #13, ≤ 300 MB at a million regions): a server
 * with 4-bit re-rank columns finds a product through Google's client as the default does,
 * holds 128 bytes a region less, and a restart under another setting on the same data does
 * not read the other's snapshot (it rebuilds from the store, which kept int8 vectors) and
 * answers the same. METAPIXEL_RERANK_4BIT_FROM likewise: a set at the threshold has 4-bit
 * rows under the default 8 bits, in a build and in its snapshot, and int8 ones again when
 * the threshold is off.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { imageAnnotatorClient, productSearchClient } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';
import { SQLITE_FILE } from '../../src/store/open-store';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';

const PARENT = 'projects/rerank/locations/us-west1';
const SET = `${PARENT}/productSets/shop`;
const PHOTOS = ['darknet_dog.jpg', 'skimage_coffee.png', 'skimage_chelsea.png', 'darknet_kite.jpg'];
const photo = (name: string) => readFileSync(path.join(devImagesDir(), name));

async function metric(server: TestServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.restUrl}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)![1]);
}

/** The best product for a crop of the coffee photo (its middle, 60 % of each side). */
async function searchCoffeeCrop(server: TestServer): Promise<string[]> {
  const img = sharp(photo('skimage_coffee.png'));
  const { width = 0, height = 0 } = await img.metadata();
  const content = await img
    .extract({
      left: Math.round(width * 0.2),
      top: Math.round(height * 0.2),
      width: Math.round(width * 0.6),
      height: Math.round(height * 0.6),
    })
    .jpeg()
    .toBuffer();
  const client = imageAnnotatorClient(server, 'grpc');
  const [res] = await client.productSearch!({
    image: { content },
    imageContext: { productSearchParams: { productSet: SET, productCategories: ['general-v1'] } },
  });
  await client.close();
  return res.productSearchResults!.results!.map((r) => r.product!.name!.split('/').pop()!);
}

test('4-bit re-rank columns: the same answer, 128 bytes a region less, and a restart under the other setting rebuilds instead of reading the snapshot; the same from METAPIXEL_RERANK_4BIT_FROM regions', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-rerank-'));
  const running: TestServer[] = [];
  try {
    // 4 bits over the leading 128 directions: 64 bytes a vector.
    const small = await startTestServer({ dataDir, rerankBits: 4, rerankDims: 128 });
    running.push(small);
    const ps = productSearchClient(small, 'grpc');
    await ps.createProductSet({ parent: PARENT, productSetId: 'shop', productSet: { displayName: 'Shop' } });
    for (const name of PHOTOS) {
      const id = name.replace(/[^a-z0-9]/gi, '-');
      small.gcs.put('shop', name, photo(name));
      await ps.createProduct({ parent: PARENT, productId: id, product: { displayName: id, productCategory: 'general-v1' } });
      await ps.createReferenceImage({
        parent: `${PARENT}/products/${id}`,
        referenceImageId: 'r',
        referenceImage: { uri: `gs://shop/${name}` },
      });
      await ps.addProductToProductSet({ name: SET, product: `${PARENT}/products/${id}` });
    }
    await ps.close();
    const fromSmall = await searchCoffeeCrop(small);
    expect(fromSmall[0]).toBe('skimage-coffee-png');
    const regions = await metric(small, 'metapixel_index_regions');
    running.pop();
    await small.stop(); // writes its snapshot

    const wide = await startTestServer({ dataDir });
    running.push(wide);
    const fromWide = await searchCoffeeCrop(wide);
    // The same best product; the unrelated ones, close in score, may swap.
    expect(fromWide[0]).toBe('skimage-coffee-png');
    expect([...fromWide].sort()).toEqual([...fromSmall].sort());
    expect(await metric(wide, 'metapixel_index_regions')).toBe(regions);
    expect(await metric(wide, 'metapixel_index_rebuilds_total')).toBeGreaterThan(0);
    // Its queries were projected by onnxruntime, none in the kernel after a failed run.
    expect(await metric(wide, 'metapixel_query_projection_fallbacks_total')).toBe(0);
    const wideBytes = await metric(wide, 'metapixel_index_bytes');
    running.pop();
    await wide.stop();

    // 4 bits over all 256 directions: the 8-bit snapshot is not read either; built from the
    // store as the 8-bit index was, it holds 128 bytes less for each of its rows. That the
    // store kept all 256 directions under the first server's 128 is checked below.
    const again = await startTestServer({ dataDir, rerankBits: 4 });
    running.push(again);
    expect((await searchCoffeeCrop(again))[0]).toBe('skimage-coffee-png');
    expect(await metric(again, 'metapixel_index_rebuilds_total')).toBeGreaterThan(0);
    const fourBitBytes = await metric(again, 'metapixel_index_bytes');
    expect(wideBytes - fourBitBytes).toBeGreaterThanOrEqual(regions * 128);
    running.pop();
    await again.stop();

    // 8 bits, but 4 from a set of one region (METAPIXEL_RERANK_4BIT_FROM): built from the
    // store (the 4-bit codec's snapshot is not read), the set's rows are 4-bit, as above.
    const large = { dataDir, rerank4BitFrom: 1 };
    const crossed = await startTestServer(large);
    running.push(crossed);
    expect((await searchCoffeeCrop(crossed))[0]).toBe('skimage-coffee-png');
    expect(await metric(crossed, 'metapixel_index_rebuilds_total')).toBeGreaterThan(0);
    expect(await metric(crossed, 'metapixel_index_bytes')).toBe(fourBitBytes);
    running.pop();
    await crossed.stop(); // its snapshot: 4-bit rows under the int8 codec
    // The same settings read that snapshot; with the threshold off, the set is built from the
    // store again, with int8 rows (4 bits cannot give them back).
    const restarted = await startTestServer(large);
    running.push(restarted);
    expect(await metric(restarted, 'metapixel_index_rebuilds_total')).toBe(0);
    expect(await metric(restarted, 'metapixel_index_bytes')).toBe(fourBitBytes);
    expect((await searchCoffeeCrop(restarted))[0]).toBe('skimage-coffee-png');
    running.pop();
    await restarted.stop();
    const off = await startTestServer({ dataDir, rerank4BitFrom: 0 });
    running.push(off);
    expect(await metric(off, 'metapixel_index_rebuilds_total')).toBeGreaterThan(0);
    expect(await metric(off, 'metapixel_index_bytes')).toBe(wideBytes);
    running.pop();
    await off.stop();
    const stored = await SqliteStore.open(path.join(dataDir, SQLITE_FILE));
    for (const name of PHOTOS) {
      const [ref] = await stored.catalog.listReferenceImages(
        { project: 'rerank', location: 'us-west1', product: name.replace(/[^a-z0-9]/gi, '-') },
        { limit: 10 },
      );
      for (const r of ref.regions) expect(r.compact!.length).toBe(8 + 256 + 16);
    }
    await stored.close();
  } finally {
    for (const s of running) await s.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 180_000);
