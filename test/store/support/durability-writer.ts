/**
 * Child process of the SQLite durability test. Writes until killed: each step creates a
 * product and records its index in an operation's metadata, and prints `acked <i>` only
 * after both writes resolved. The parent SIGKILLs it mid-stream and checks that every
 * acknowledged write is in the file.
 *
 * Usage: node -r ./register-ts.js durability-writer.ts <db file> <max steps>
 */
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store';

const SCOPE = { project: 'durable', location: 'l1' };
export const OP = { project: 'durable', location: 'l1', operation: 'progress' };
export const productId = (i: number) => `p${String(i).padStart(6, '0')}`;

async function main(file: string, max: number): Promise<void> {
  const store = await SqliteStore.open(file);
  const t = new Date(1_700_000_000_123);
  await store.operations.createOperation({
    ...SCOPE,
    id: OP.operation,
    kind: 'durability',
    request: null,
    done: false,
    metadata: { last: -1 },
    cancelRequested: false,
    createTime: t,
    updateTime: t,
  });
  for (let i = 0; i < max; i++) {
    const rec = { ...SCOPE, id: productId(i), displayName: `n${i}`, description: '', productCategory: 'general-v1' };
    await store.catalog.createProduct({ ...rec, labels: [], createTime: t, updateTime: t });
    await store.operations.updateOperation(OP, { metadata: { last: i } }, t);
    process.stdout.write(`acked ${i}\n`);
  }
  await store.close();
  process.stdout.write('finished\n');
}

if (require.main === module) {
  main(process.argv[2], Number(process.argv[3])).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
