/**
 * Picks the store implementation: MongoDB when a URI is configured, otherwise the
 * embedded SQLite file under the data directory.
 */
import { join } from 'node:path';
import type { Stores } from './stores';
import { MongoStore } from './mongo/mongo-store';
import { SqliteStore } from './sqlite/sqlite-store';

export const DEFAULT_MONGO_DB = 'metapixel';
export const SQLITE_FILE = 'metapixel.db';

export interface StoreOptions {
  mongodbUri?: string;
  dataDir: string;
}

export async function openStore(opts: StoreOptions): Promise<Stores> {
  if (opts.mongodbUri) return MongoStore.connect(opts.mongodbUri, mongoDbName(opts.mongodbUri));
  return SqliteStore.open(join(opts.dataDir, SQLITE_FILE));
}

/**
 * The database named by the URI's path (`mongodb://host/NAME?opts`), else 'metapixel'.
 * Parsed by hand because a seed list (`h1:27017,h2:27017`) is not a URL host; the driver's
 * own fallback would be 'test'.
 */
export function mongoDbName(uri: string): string {
  const m = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]*)/.exec(uri);
  const name = m ? decodeURIComponent(m[1]) : '';
  return name === '' ? DEFAULT_MONGO_DB : name;
}
