/**
 * A thin handle over the better-sqlite3 connection shared by the SQLite store's parts.
 */
import type Database from 'better-sqlite3';
import type { Page } from '../catalog-store';

export class Sql {
  /** Preparing is a parse + plan; each distinct statement is prepared once per connection. */
  private readonly cache = new Map<string, Database.Statement<unknown[], unknown>>();

  constructor(readonly conn: Database.Database) {}

  /** A cached statement, typed by the row shape the caller expects back. */
  stmt<Row = unknown>(sql: string): Database.Statement<[object], Row> {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.conn.prepare(sql);
      this.cache.set(sql, s);
    }
    return s as unknown as Database.Statement<[object], Row>;
  }

  /** Runs fn in a BEGIN IMMEDIATE transaction: the write lock is taken before the first
   *  read, so a read-then-write cannot be invalidated (or deadlock) by another process. */
  tx<T>(fn: () => T): T {
    return this.conn.transaction(fn).immediate();
  }
}

/** `after` defaults to '' (every id is non-empty, so all ids sort after it); a non-positive
 *  limit yields nothing rather than SQLite's "LIMIT -1 = unlimited". */
export function pageParams(page: Page): { after: string; limit: number } {
  const limit = Number.isFinite(page.limit) && page.limit > 0 ? Math.floor(page.limit) : 0;
  return { after: page.after ?? '', limit };
}

/**
 * The cursor of listProductSetKeys: `after` is a composite key
 * `${project}/${location}/${id}`, split back into its tuple (ids, projects and locations
 * never contain '/'). Missing segments read as '', which sorts before every real value:
 * `after: 'p'` starts at project p's first set, and no `after` starts at the beginning.
 */
export function setKeyCursor(page: Page): { afterProject: string; afterLocation: string; afterId: string } {
  const [afterProject = '', afterLocation = '', ...rest] = (page.after ?? '').split('/');
  return { afterProject, afterLocation, afterId: rest.join('/') };
}
