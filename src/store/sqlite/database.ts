/**
 * Opens and configures the SQLite file behind SqliteStore.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './schema';

/** How long a writer waits for another process's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

export const MEMORY = ':memory:';

/** Creates the file's directory when missing (a fresh data volume), asynchronously so the
 *  event loop is not held by the one-time filesystem work. */
export async function ensureParentDir(file: string): Promise<void> {
  if (file === MEMORY || file === '') return;
  await mkdir(dirname(file), { recursive: true });
}

/** `bulk`: commits are not fsync'd (synchronous=OFF), for seeding benchmarks and tools that
 *  can redo their work; the server never opens a store this way. */
export function openDatabase(file: string, opts: { bulk?: boolean } = {}): Database.Database {
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    // WAL: readers never block the writer, and a commit is one sequential append.
    // synchronous=FULL: every commit fsyncs the WAL before returning, which is what makes
    // "a method resolves only once its write is durable" true (NORMAL may lose the last
    // commits on power loss). busy_timeout: see BUSY_TIMEOUT_MS.
    db.pragma('journal_mode = WAL');
    db.pragma(opts.bulk ? 'synchronous = OFF' : 'synchronous = FULL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    migrate(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
