/**
 * The PurgeProducts job on a real embedded store: it resumes from its page checkpoint
 * after a crash without redoing finished pages, moves the index stamps of every affected
 * set even when it crashed between deleting and stamping, stops between pages when
 * cancelled, and deletes only the products in no set for an orphan purge.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { openStore } from '../../src/store/open-store';
import type { CatalogStore } from '../../src/store/catalog-store';
import type { IndexFeedStore } from '../../src/store/index-feed-store';
import type { OperationRecord, OperationStore } from '../../src/store/operation-store';
import type { Stores } from '../../src/store/stores';
import { OperationsService, opName } from '../../src/jobs/operations-service';
import { JobRunner, type JobControl } from '../../src/jobs/job-runner';
import { PURGE_PRODUCTS_KIND, PurgeProductsJob, type PurgeTarget } from '../../src/jobs/purge-products';
import type { CallContext } from '../../src/core/context';

const scope = { project: 'p', location: 'l' };
const ctx: CallContext = { principal: { id: 't', assertProject: () => undefined }, requestId: 'r' };
let dir: string;
let stores: Stores;
let store: CatalogStore;
let feed: IndexFeedStore;
let operations: OperationStore;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-purge-'));
  stores = await openStore({ dataDir: dir });
  ({ catalog: store, indexFeed: feed, operations } = stores);
});
afterEach(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

const id = (prefix: string, i: number) => `${prefix}${String(i).padStart(2, '0')}`;

async function product(pid: string, sets: string[]): Promise<void> {
  const now = new Date();
  await store.createProduct({
    ...scope,
    id: pid,
    displayName: pid,
    description: '',
    productCategory: 'general-v1',
    labels: [],
    createTime: now,
    updateTime: now,
  });
  for (const s of sets) await store.addProductToSet({ ...scope, productSet: s }, pid);
}

async function set(sid: string): Promise<void> {
  const now = new Date();
  await store.createProductSet({ ...scope, id: sid, displayName: sid, createTime: now, updateTime: now });
}

async function remaining(): Promise<string[]> {
  return (await store.listProducts(scope, { limit: 1000 })).map((p) => p.id);
}

/** The index changes recorded in the feed so far, as `set/product`. */
async function changes(): Promise<string[]> {
  return (await feed.listIndexChanges(0, 10_000)).map((c) => `${c.setId}/${c.productId ?? '*'}`);
}

/** A persisted operation and a JobControl that writes progress as the runner does. */
async function operation(target: PurgeTarget) {
  const op = await new OperationsService(operations).enqueue({
    ...scope,
    kind: PURGE_PRODUCTS_KIND,
    request: target,
    metadata: { state: 'PROCESSING' },
  });
  const abort = new AbortController();
  const checkpoints: unknown[] = [];
  const ctl: JobControl = {
    signal: abort.signal,
    progress: async (metadata, checkpoint) => {
      checkpoints.push(checkpoint);
      await operations.updateOperation(opName(op), { metadata, checkpoint }, new Date());
    },
  };
  const reload = async () => (await operations.getOperation(opName(op))) as OperationRecord;
  return { op, ctl, abort, checkpoints, reload };
}

/** The catalog store with some methods replaced (the rest still reach the real store). */
function wrap(overrides: Partial<CatalogStore>): CatalogStore {
  return Object.assign(Object.create(store) as CatalogStore, overrides);
}

/** The index feed with some methods replaced. */
function wrapFeed(overrides: Partial<IndexFeedStore>): IndexFeedStore {
  return Object.assign(Object.create(feed) as IndexFeedStore, overrides);
}

test('a crash after a page resumes from the checkpoint without re-listing finished pages', async () => {
  await set('big');
  for (let i = 0; i < 25; i++) await product(id('p', i), ['big']);
  const { op, ctl, reload } = await operation({ productSetId: 'big' });
  let pages = 0;
  const crashing: JobControl = {
    signal: ctl.signal,
    progress: async (metadata, checkpoint) => {
      await ctl.progress(metadata, checkpoint);
      if ((checkpoint as { touch?: string[] }).touch === undefined && ++pages === 2) throw new Error('killed');
    },
  };
  await expect(new PurgeProductsJob(store, feed, undefined, undefined, 10).run(op, crashing)).rejects.toThrow('killed');
  expect(await remaining()).toEqual(['p20', 'p21', 'p22', 'p23', 'p24']);
  expect((await reload()).checkpoint).toEqual({ after: 'p19', deleted: 20, progress: { processedLines: 20, failedLines: 0 } });

  const afters: (string | undefined)[] = [];
  const listing = wrap({ listProductsInSet: (s, page) => (afters.push(page.after), store.listProductsInSet(s, page)) });
  const resumed = await reload();
  await expect(new PurgeProductsJob(listing, feed, undefined, undefined, 10).run(resumed, ctl)).resolves.toEqual({
    '@type': 'type.googleapis.com/google.protobuf.Empty',
  });
  expect(afters[0]).toBe('p19');
  expect(await remaining()).toEqual([]);
  expect((await reload()).checkpoint).toEqual({ after: 'p24', deleted: 25, progress: { processedLines: 25, failedLines: 0 } });
  // The set itself stays.
  expect(await store.getProductSet({ ...scope, productSet: 'big' })).not.toBeNull();
});

test('a crash inside a page: on resume the products it deleted count once, and the count ends exact', async () => {
  await set('big');
  for (let i = 0; i < 25; i++) await product(id('p', i), ['big']);
  const { op, ctl, reload } = await operation({ productSetId: 'big' });
  let deletes = 0;
  const dying = wrap({
    deleteProduct: (name) => {
      if (++deletes === 14) throw new Error('killed mid-page');
      return store.deleteProduct(name);
    },
  });
  await expect(new PurgeProductsJob(dying, feed, undefined, undefined, 10).run(op, ctl)).rejects.toThrow('killed mid-page');
  // Page 2 had deleted p10..p12 when it died; its checkpoint still says 10 deleted.
  expect(await remaining()).toEqual(Array.from({ length: 12 }, (_, i) => id('p', i + 13)));
  expect((await reload()).checkpoint).toMatchObject({
    after: 'p09',
    deleted: 10,
    pending: Array.from({ length: 10 }, (_, i) => id('p', i + 10)),
  });
  await new PurgeProductsJob(store, feed, undefined, undefined, 10).run(await reload(), ctl);
  expect(await remaining()).toEqual([]);
  expect((await reload()).checkpoint).toEqual({ after: 'p24', deleted: 25, progress: { processedLines: 25, failedLines: 0 } });
});

test('a crash between deleting a page and recording its index changes is repaired on resume', async () => {
  await set('big');
  await set('other');
  for (let i = 0; i < 15; i++) await product(id('p', i), i === 12 ? ['big', 'other'] : ['big']);
  const { op, ctl, reload } = await operation({ productSetId: 'big' });
  const before = await changes();
  let appends = 0;
  const failing = wrapFeed({
    appendIndexChanges: async (...args) => {
      if (++appends === 2) throw new Error('killed before recording');
      return feed.appendIndexChanges(...args);
    },
  });
  await expect(new PurgeProductsJob(store, failing, undefined, undefined, 10).run(op, ctl)).rejects.toThrow('killed before recording');
  // Page 2 (p10..p14, with p12 also in `other`) is deleted, but its changes are not recorded.
  expect(await remaining()).toEqual([]);
  const page1 = Array.from({ length: 10 }, (_, i) => `big/${id('p', i)}`);
  expect((await changes()).slice(before.length)).toEqual(page1);
  const page2 = [
    { setId: 'big', productId: 'p10' },
    { setId: 'big', productId: 'p11' },
    { setId: 'big', productId: 'p12' },
    { setId: 'other', productId: 'p12' },
    { setId: 'big', productId: 'p13' },
    { setId: 'big', productId: 'p14' },
  ];
  expect((await reload()).checkpoint).toMatchObject({ after: 'p09', touch: page2 });

  const applied: unknown[] = [];
  const index = { applyOwn: async (_s: unknown, c: readonly unknown[]) => void applied.push(...c), indexTime: () => undefined };
  await new PurgeProductsJob(store, feed, index, undefined, 10).run(await reload(), ctl);
  expect((await changes()).slice(before.length + 10)).toEqual(['big/p10', 'big/p11', 'big/p12', 'other/p12', 'big/p13', 'big/p14']);
  expect(applied).toEqual(page2);
});

test('every page records and applies one change per deleted product and set: O(page), never the whole set', async () => {
  await set('big');
  for (let i = 0; i < 45; i++) await product(id('p', i), ['big']);
  const { op, ctl } = await operation({ productSetId: 'big' });
  const batches: number[] = [];
  const index = { applyOwn: async (_s: unknown, c: readonly unknown[]) => void batches.push(c.length), indexTime: () => undefined };
  await new PurgeProductsJob(store, feed, index, undefined, 10).run(op, ctl);
  expect(await remaining()).toEqual([]);
  expect(batches).toEqual([10, 10, 10, 10, 5]);
  expect((await changes()).filter((c) => c.endsWith('/*'))).toEqual([]);
});

test('a checkpoint of an older build (set ids in `touch`) replays as whole-set changes', async () => {
  await set('big');
  for (let i = 0; i < 3; i++) await product(id('p', i), ['big']);
  const { op, ctl } = await operation({ productSetId: 'big' });
  const before = (await changes()).length;
  await new PurgeProductsJob(store, feed, undefined, undefined, 10).run({ ...op, checkpoint: { deleted: 0, touch: ['big'] } }, ctl);
  expect((await changes()).slice(before)).toEqual(['big/*', 'big/p00', 'big/p01', 'big/p02']);
});

test('a cancel lands between pages: the page in flight finishes, later pages are untouched', async () => {
  await set('big');
  for (let i = 0; i < 25; i++) await product(id('p', i), ['big']);
  const { op, ctl, abort, reload } = await operation({ productSetId: 'big' });
  let deletes = 0;
  const cancelling = wrap({
    deleteProduct: (name) => {
      if (++deletes === 15) abort.abort('cancelled');
      return store.deleteProduct(name);
    },
  });
  await expect(new PurgeProductsJob(cancelling, feed, undefined, undefined, 10).run(op, ctl)).rejects.toBe('cancelled');
  expect(await remaining()).toEqual(['p20', 'p21', 'p22', 'p23', 'p24']);
  expect((await reload()).checkpoint).toEqual({ after: 'p19', deleted: 20, progress: { processedLines: 20, failedLines: 0 } });
});

test('an orphan purge deletes only products in no set, scanning every product once, one set lookup per page', async () => {
  await set('keep');
  for (let i = 0; i < 11; i++) await product(id('a', i), i % 3 === 0 ? ['keep'] : []);
  const { op, ctl } = await operation({ orphans: true });
  const lookups: string[][] = [];
  const counting = wrap({
    listSetsOfProduct: () => Promise.reject(new Error('one lookup per product')),
    listSetsOfProducts: (scope, ids) => (lookups.push([...ids]), store.listSetsOfProducts(scope, ids)),
  });
  await new PurgeProductsJob(counting, feed, undefined, undefined, 4).run(op, ctl);
  expect(await remaining()).toEqual(['a00', 'a03', 'a06', 'a09']);
  // Pages of 4 over the products left after each page's deletes: every product seen once.
  expect(lookups.flat().sort()).toEqual(Array.from({ length: 11 }, (_, i) => id('a', i)));
  expect(lookups.length).toBe(3);
});

test('through the JobRunner: CancelOperation ends a purge with CANCELLED metadata and an end time', async () => {
  await set('big');
  for (let i = 0; i < 40; i++) await product(id('p', i), ['big']);
  const slow = wrap({ deleteProduct: async (name) => (await new Promise((r) => setTimeout(r, 15)), store.deleteProduct(name)) });
  const runner = new JobRunner(
    operations,
    [new PurgeProductsJob(slow, feed, undefined, undefined, 5)],
    { concurrency: 1, leaseMs: 500, pollMs: 50 },
    pino({ level: 'silent' }),
  );
  const ops = new OperationsService(operations, { onQueued: () => runner.wake(), onCancelRequested: (n) => runner.cancelLocal(n) });
  runner.start();
  try {
    const op = await ops.enqueue({
      ...scope,
      kind: PURGE_PRODUCTS_KIND,
      request: { productSetId: 'big' },
      metadata: { '@type': 'x', state: 'PROCESSING' },
    });
    const name = `projects/p/locations/l/operations/${op.id}`;
    const until = async (cond: () => Promise<boolean>) => {
      for (let t = 0; !(await cond()); t++) {
        if (t > 400) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    await until(async () => (await remaining()).length < 40);
    await ops.cancelOperation({ name }, ctx);
    await until(async () => (await operations.getOperation(opName(op)))!.done);
    const done = await operations.getOperation(opName(op));
    expect(done).toMatchObject({ error: { code: 1 }, metadata: { state: 'CANCELLED', endTime: { seconds: expect.any(String) } } });
    const left = (await remaining()).length;
    expect(left).toBeGreaterThan(0);
    expect(left % 5).toBe(0);
  } finally {
    await runner.close();
  }
});
