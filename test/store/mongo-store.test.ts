/**
 * MongoStore against jongodb (no real mongod is obtainable here; see
 * /work/shared/facts/infrastructure.md). Each test gets its own database on one server.
 */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { MongoStore } from '../../src/store/mongo/mongo-store';
import { MongoIndexFeed } from '../../src/store/mongo/mongo-index-feed';
import type { Collections } from '../../src/store/mongo/collections';
import { openStore } from '../../src/store/open-store';
import { startJongodb, type Jongodb } from '../support/jongodb';
import { runStoreContracts } from './contract';
import { A, product, productName, productSet, setName } from './contract/fixtures';

let server: Jongodb | undefined;
const uri = () => {
  if (!server) throw new Error('jongodb not started');
  return server.uri;
};
const freshDb = () => `t_${randomBytes(6).toString('hex')}`;

beforeAll(async () => {
  server = await startJongodb();
});
afterAll(async () => {
  await server?.stop();
});

runStoreContracts('mongodb (jongodb)', () => MongoStore.connect(uri(), freshDb()), undefined, {
  // jongodb compares strings by UTF-16 code unit; real MongoDB compares UTF-8 bytes, which
  // is code-point order. The store relies on the server's order, so only this server fails.
  codePointOrder: 'jongodb orders strings by UTF-16 code unit, unlike MongoDB',
  // Seen in CI: three concurrent claims of one operation, two winners. MongoDB applies
  // findOneAndUpdate atomically per document; jongodb evaluates filter and update apart.
  atomicClaim: 'jongodb findOneAndUpdate is not atomic under concurrent connections, unlike MongoDB',
});

describe('MongoStore', () => {
  it('connect is repeatable on one database (indexes are ensured idempotently)', async () => {
    const db = freshDb();
    const first = await MongoStore.connect(uri(), db);
    await first.catalog.createProduct(product(A, 'p1'));
    await first.close();
    const second = await MongoStore.connect(uri(), db);
    try {
      expect(await second.catalog.createProduct(product(A, 'p1'))).toBe(false);
      expect(await second.catalog.getProduct(productName(A, 'p1'))).toEqual(product(A, 'p1'));
    } finally {
      await second.close();
    }
  });

  it('lists skip memberships whose set or product is gone (left by a crashed writer)', async () => {
    const db = freshDb();
    const store = await MongoStore.connect(uri(), db);
    const client = await new MongoClient(uri()).connect();
    try {
      await store.catalog.createProductSet(productSet(A, 's1'));
      await store.catalog.createProduct(product(A, 'p1'));
      await store.catalog.addProductToSet(setName(A, 's1'), 'p1');
      // Orphans as an interrupted add racing a delete could leave them.
      const memberships = client.db(db).collection<{ _id: string }>('memberships');
      const orphan = (setId: string, productId: string) => ({
        _id: `${A.project}/${A.location}/${setId}/${productId}`,
        ...A,
        setId,
        productId,
      });
      await memberships.insertOne(orphan('s1', 'gone-product'));
      await memberships.insertOne(orphan('gone-set', 'p1'));
      const page = await store.catalog.listProductsInSet(setName(A, 's1'), { limit: 1 });
      expect(page.map((p) => p.id)).toEqual(['p1']); // 'gone-product' sorts first but is skipped
      expect(await store.catalog.listSetsOfProduct(productName(A, 'p1'))).toEqual(['s1']);
    } finally {
      await client.close();
      await store.close();
    }
  });

  it('openStore picks MongoDB when a URI is given', async () => {
    const store = await openStore({ mongodbUri: uri(), dataDir: '/nonexistent' });
    try {
      expect(store.kind).toBe('mongodb');
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe('index feed change stream', () => {
  it('jongodb has no change streams: watchIndexChanges resolves undefined, and readers poll', async () => {
    const store = await MongoStore.connect(uri(), freshDb());
    expect(
      await store.indexFeed.watchIndexChanges(
        () => undefined,
        () => undefined,
      ),
    ).toBeUndefined();
    await store.close();
  });

  /** A change stream as the driver's (tryNext, next, close), fed by the test: jongodb has none. */
  function fakeStream(opts: { refuse?: boolean } = {}) {
    const waiting: ((v: unknown) => void)[] = [];
    const failing: ((e: unknown) => void)[] = [];
    const stream = {
      pipeline: undefined as unknown,
      closed: false,
      tryNext: async () => {
        if (opts.refuse) throw Object.assign(new Error('The $changeStream stage is only supported on replica sets'), { code: 40573 });
        return null;
      },
      next: () => new Promise((resolve, reject) => (waiting.push(resolve), failing.push(reject))),
      close: async () => {
        stream.closed = true;
        for (const resolve of waiting.splice(0)) resolve(null);
      },
      insert: () => waiting.shift()?.({ operationType: 'insert' }) ?? failing.shift(),
      fail: (err: Error) => {
        waiting.shift();
        failing.shift()?.(err);
      },
    };
    const collections = {
      indexChanges: {
        watch: (pipeline: unknown) => {
          stream.pipeline = pipeline;
          return stream;
        },
      },
    } as unknown as Collections;
    return { stream, feed: new MongoIndexFeed(collections) };
  }

  const tick = () => new Promise((r) => setImmediate(r));

  it('calls onAppend for each insert the stream brings, and stop closes it', async () => {
    const { stream, feed } = fakeStream();
    let appended = 0;
    const errors: unknown[] = [];
    const stop = await feed.watchIndexChanges(
      () => appended++,
      (e) => errors.push(e),
    );
    expect(stop).toBeDefined();
    expect(stream.pipeline).toEqual([{ $match: { operationType: 'insert' } }]);
    for (let i = 0; i < 3; i++) {
      await tick();
      stream.insert();
    }
    await tick();
    expect(appended).toBe(3);
    await stop!();
    await tick();
    expect([stream.closed, errors]).toEqual([true, []]);
  });

  it('reports an error that ends the stream once; a server that refuses change streams resolves undefined and is closed', async () => {
    const { stream, feed } = fakeStream();
    const errors: unknown[] = [];
    await feed.watchIndexChanges(
      () => undefined,
      (e) => errors.push(e),
    );
    await tick();
    stream.fail(new Error('not resumable'));
    await tick();
    expect(errors).toHaveLength(1);
    const refused = fakeStream({ refuse: true });
    expect(
      await refused.feed.watchIndexChanges(
        () => undefined,
        () => undefined,
      ),
    ).toBeUndefined();
    expect(refused.stream.closed).toBe(true);
  });
});
