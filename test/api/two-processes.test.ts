/**
 * Two server processes on one MongoDB store (jongodb here): a product added through one is
 * found by product search through the other within 2 s, by the change feed (no set
 * rebuilt); and one killed with SIGKILL restarts from its index snapshot and catches up on
 * the writes made while it was down.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { imageAnnotatorClient, productSearchClient } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startFakeGcs, type FakeGcs } from '../support/fake-gcs';
import { startJongodb } from '../support/jongodb';
import { spawnServer, type ServerProcess } from '../support/process';

const PARENT = 'projects/shared/locations/eu';
const SET = `${PARENT}/productSets/s`;
const WHOLE = {
  normalizedVertices: [
    { x: 0, y: 0 },
    { x: 1, y: 0 },
    { x: 1, y: 1 },
    { x: 0, y: 1 },
  ],
};

let mongo: Awaited<ReturnType<typeof startJongodb>>;
let gcs: FakeGcs;
let a: ServerProcess;
let b: ServerProcess;
let envA: Record<string, string>;
const snapshotsA = mkdtempSync(path.join(os.tmpdir(), 'mpx-snap-a-'));

async function counter(p: ServerProcess, name: string): Promise<number> {
  const text = await (await fetch(`${p.restUrl}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  if (!m) throw new Error(`${name} missing from /metrics`);
  return Number(m[1]);
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 10000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  mongo = await startJongodb();
  gcs = await startFakeGcs();
  for (const f of ['darknet_dog.jpg', 'skimage_coffee.png', 'darknet_horses.jpg'])
    gcs.put('photos', f, readFileSync(path.join(devImagesDir(), f)));
  const env = { MONGODB_URI: mongo.uri, STORAGE_EMULATOR_HOST: gcs.host, METAPIXEL_INDEX_POLL_MS: '300' };
  envA = { ...env, METAPIXEL_INDEX_SNAPSHOT_DIR: snapshotsA, METAPIXEL_INDEX_SNAPSHOT_SECONDS: '1' };
  [a, b] = await Promise.all([spawnServer(envA, 60000), spawnServer({ ...env, METAPIXEL_INDEX_SNAPSHOT_DIR: 'off' }, 60000)]);
}, 120000);
afterAll(async () => {
  for (const p of [a, b]) {
    p?.child.kill('SIGTERM');
    await p?.exited;
  }
  await gcs?.close();
  await mongo?.stop();
});

test('a product added through one process is found through the other within 2 s', async () => {
  const viaA = productSearchClient(a, 'grpc');
  await viaA.createProductSet({ parent: PARENT, productSetId: 's', productSet: { displayName: 'S' } });
  const add = async (id: string, file: string) => {
    await viaA.createProduct({ parent: PARENT, productId: id, product: { displayName: id, productCategory: 'general-v1' } });
    await viaA.createReferenceImage({
      parent: `${PARENT}/products/${id}`,
      referenceImage: { uri: `gs://photos/${file}`, boundingPolys: [WHOLE] },
    });
    await viaA.addProductToProductSet({ name: SET, product: `${PARENT}/products/${id}` });
  };
  await add('coffee', 'skimage_coffee.png');
  // B has seen the set created (one build of an empty set); from here on, changes only.
  const rebuildsB = await until('B to build the new set', async () =>
    (await counter(b, 'metapixel_index_rebuilds_total')) >= 1 ? counter(b, 'metapixel_index_rebuilds_total') : undefined,
  );
  await add('horses', 'darknet_horses.jpg');
  await add('dog', 'darknet_dog.jpg');
  const added = Date.now();

  const viaB = imageAnnotatorClient(b, 'rest');
  const query = {
    image: { content: readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg')) },
    imageContext: { productSearchParams: { productSet: SET, productCategories: ['general-v1'], boundingPoly: WHOLE } },
  };
  let found = '';
  while (Date.now() - added < 5000) {
    const [res] = await viaB.productSearch!(query);
    found = res.productSearchResults?.results?.[0]?.product?.displayName ?? '';
    if (found === 'dog') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(found).toBe('dog');
  expect(Date.now() - added).toBeLessThan(2000);
  expect(await counter(b, 'metapixel_index_rebuilds_total')).toBe(rebuildsB);
  expect(await counter(b, 'metapixel_index_changes_applied_total')).toBeGreaterThanOrEqual(3);
  await viaA.close();
  await viaB.close();
}, 120000);

test('killed with SIGKILL, a process restarts from its snapshot and catches up on writes made meanwhile', async () => {
  const manifest = path.join(snapshotsA, 'manifest.json');
  // The three products of the test above are in A's snapshot once its manifest is written.
  await until('A to write its snapshot', async () => {
    if (!existsSync(manifest)) return undefined;
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { sets: Record<string, string> };
    return Object.keys(m.sets).length === 1 ? true : undefined;
  });
  await new Promise((r) => setTimeout(r, 1500)); // a round after the last change
  a.child.kill('SIGKILL');
  await a.exited;

  const viaB = productSearchClient(b, 'grpc');
  await viaB.removeProductFromProductSet({ name: SET, product: `${PARENT}/products/dog` });
  await viaB.deleteProduct({ name: `${PARENT}/products/horses` });

  a = await spawnServer(envA, 60000);
  expect(a.output()).toMatch(/search index loaded from snapshot/);
  expect(await counter(a, 'metapixel_index_rebuilds_total')).toBe(0);
  const viaA = imageAnnotatorClient(a, 'grpc');
  const search = async (file: string) => {
    const query = {
      image: { content: readFileSync(path.join(devImagesDir(), file)) },
      imageContext: { productSearchParams: { productSet: SET, productCategories: ['general-v1'], boundingPoly: WHOLE } },
    };
    const [res] = await viaA.productSearch!(query);
    return (res.productSearchResults?.results ?? []).map((r) => r.product?.displayName);
  };
  expect(await search('skimage_coffee.png')).toEqual(['coffee']);
  expect(await search('darknet_dog.jpg')).not.toContain('dog');
  expect(await counter(a, 'metapixel_index_rebuilds_total')).toBe(0);
  await viaA.close();
  await viaB.close();
}, 120000);

test('a second process given a snapshot directory in use runs without snapshots and says so', async () => {
  const c = await spawnServer(envA, 60000);
  try {
    expect(c.output()).toMatch(/index snapshots off: data directory .* is in use by process/);
    expect(existsSync(path.join(snapshotsA, 'manifest.json'))).toBe(true);
  } finally {
    c.child.kill('SIGTERM');
    await c.exited;
  }
  // A still holds it: its lock file names A's pid.
  expect(JSON.parse(readFileSync(path.join(snapshotsA, 'metapixel.lock'), 'utf8'))).toMatchObject({ pid: a.child.pid });
}, 120000);
