import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/sqlite/schema';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { runStoreContracts } from './contract';
import { A, operation, productSet } from './contract/fixtures';
import { OP, productId } from './support/durability-writer';

let dir = '';
let n = 0;
const freshFile = () => join(dir, `store-${n++}.db`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'metapixel-sqlite-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

runStoreContracts('sqlite (temp file)', () => SqliteStore.open(freshFile()));

describe('SqliteStore', () => {
  it('creates the data directory and opens the file in WAL mode at the current schema version', async () => {
    const file = join(dir, 'nested', 'deeper', 'metapixel.db');
    const store = await SqliteStore.open(file);
    await store.close();
    expect((await stat(file)).isFile()).toBe(true);
    const raw = new Database(file);
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    } finally {
      raw.close();
    }
  });

  it('reopens a file with its data, and refuses one written by a newer schema', async () => {
    const file = freshFile();
    const first = await SqliteStore.open(file);
    await first.operations.createOperation(operation('p', null, 'kept'));
    await first.close();
    const second = await SqliteStore.open(file);
    expect((await second.operations.getOperation({ project: 'p', location: null, operation: 'kept' }))?.id).toBe('kept');
    await second.close();

    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    await expect(SqliteStore.open(file)).rejects.toThrow(/newer than this build supports/);
  });

  it('migrates a version-1 file: its product sets read as never touched, and can be touched', async () => {
    const file = freshFile();
    const raw = new Database(file);
    raw.exec(MIGRATIONS[0]);
    raw.pragma('user_version = 1');
    const rec = productSet(A, 's1');
    raw
      .prepare('INSERT INTO product_sets VALUES (?, ?, ?, ?, ?, ?)')
      .run(rec.project, rec.location, rec.id, rec.displayName, +rec.createTime, +rec.updateTime);
    raw.close();
    const store = await SqliteStore.open(file);
    try {
      expect(await store.catalog.getProductSet({ ...A, productSet: 's1' })).toEqual(rec);
      expect(await store.catalog.listProductSetKeys({ limit: 10 })).toEqual([{ ...A, id: 's1' }]);
      expect((await store.indexFeed.indexFeedHead()).seq).toBe(0);
      const [seq] = await store.indexFeed.appendIndexChanges(A, [{ setId: 's1' }], new Date(1234));
      expect(await store.indexFeed.listIndexChanges(0, 10)).toEqual([{ ...A, seq, setId: 's1', time: new Date(1234) }]);
    } finally {
      await store.close();
    }
  });

  it('two handles on one file see each other and never share a lease', async () => {
    const file = freshFile();
    const [a, b] = [await SqliteStore.open(file), await SqliteStore.open(file)];
    try {
      await a.operations.createOperation(operation('p', 'l', 'op1'));
      const got = await Promise.all([
        a.operations.claimOperation('wa', new Date(10), 1000),
        b.operations.claimOperation('wb', new Date(10), 1000),
      ]);
      expect(got.filter((o) => o !== null)).toHaveLength(1);
      expect(await b.operations.claimOperation('wc', new Date(20), 1000)).toBeNull();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps every acknowledged write when the writer is SIGKILLed mid-stream', async () => {
    const file = freshFile();
    const acked = await runWriterUntilKilled(file, 25);
    expect(acked.length).toBeGreaterThanOrEqual(25);
    const store = await SqliteStore.open(file);
    try {
      for (const i of acked) {
        const name = { project: OP.project, location: OP.location, product: productId(i) };
        expect(await store.catalog.getProduct(name)).not.toBeNull();
      }
      const progress = (await store.operations.getOperation(OP))?.metadata as { last: number };
      expect(progress.last).toBeGreaterThanOrEqual(Math.max(...acked));
    } finally {
      await store.close();
    }
  });
});

/**
 * Runs support/durability-writer.ts in a child node process, SIGKILLs it once it has
 * acknowledged `killAfter` writes, and resolves with every index it acknowledged.
 * SIGKILL gives the process no chance to flush or close: only what SQLite committed
 * before acknowledging can be in the file. (It cannot simulate power loss: the OS page
 * cache survives a process kill; synchronous=FULL is what covers that case.)
 */
function runWriterUntilKilled(file: string, killAfter: number): Promise<number[]> {
  const support = join(__dirname, 'support');
  const child = spawn(process.execPath, ['-r', join(support, 'register-ts.js'), join(support, 'durability-writer.ts'), file, '100000'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acked: number[] = [];
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^acked (\d+)$/.exec(line);
      if (m) acked.push(Number(m[1]));
    }
    if (acked.length >= killAfter) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && acked.length >= killAfter) resolve(acked);
      else reject(new Error(`writer ended early (signal ${signal}, ${acked.length} acks): ${stderr}`));
    });
  });
}
