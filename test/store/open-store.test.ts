import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mongoDbName, openStore } from '../../src/store/open-store';

describe('openStore', () => {
  it('opens SQLite at <dataDir>/metapixel.db when no MongoDB URI is given, creating the directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'metapixel-open-'));
    try {
      const dataDir = join(dir, 'data');
      const store = await openStore({ dataDir, mongodbUri: '' });
      expect(store.kind).toBe('sqlite');
      await store.ping();
      await store.close();
      expect((await stat(join(dataDir, 'metapixel.db'))).isFile()).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  // The MongoDB branch runs against jongodb in mongo-store.test.ts.
});

describe('mongoDbName', () => {
  it.each([
    ['mongodb://localhost:27017', 'metapixel'],
    ['mongodb://localhost:27017/', 'metapixel'],
    ['mongodb://localhost:27017/?replicaSet=rs0', 'metapixel'],
    ['mongodb://localhost/catalog', 'catalog'],
    ['mongodb://u:p%40ss@h1:27017,h2:27017/catalog?replicaSet=rs0&w=majority', 'catalog'],
    ['mongodb+srv://user:pw@cluster0.example.net/prod-db?retryWrites=true', 'prod-db'],
    ['mongodb://h/my%20db', 'my db'],
  ])('%s -> %s', (uri, name) => {
    expect(mongoDbName(uri)).toBe(name);
  });
});
