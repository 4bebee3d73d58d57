/**
 * The index change feed in SQLite: one table, seq by AUTOINCREMENT. An append is one
 * IMMEDIATE transaction, so seqs become visible in order and the feed has no gaps.
 */
import type { LocationName } from '../../core/names';
import type { IndexChange, IndexChangeTarget, IndexFeedHead, IndexFeedStore } from '../index-feed-store';
import type { Sql } from './sql';

interface ChangeRow {
  seq: number;
  project: string;
  location: string;
  set_id: string;
  product_id: string | null;
  time: number;
}

export class SqliteIndexFeed implements IndexFeedStore {
  constructor(private readonly db: Sql) {}

  async appendIndexChanges(scope: LocationName, changes: readonly IndexChangeTarget[], now: Date): Promise<number[]> {
    if (changes.length === 0) return [];
    const sql = `INSERT INTO index_changes (project, location, set_id, product_id, time)
                 VALUES (@project, @location, @setId, @productId, @time)`;
    return this.db.tx(() =>
      changes.map((c) => {
        const params = { project: scope.project, location: scope.location, setId: c.setId, productId: c.productId ?? null, time: +now };
        return Number(this.db.stmt(sql).run(params).lastInsertRowid);
      }),
    );
  }

  async listIndexChanges(after: number, limit: number): Promise<IndexChange[]> {
    if (!(limit > 0)) return [];
    const sql = 'SELECT * FROM index_changes WHERE seq > @after ORDER BY seq LIMIT @limit';
    return this.db
      .stmt<ChangeRow>(sql)
      .all({ after, limit: Math.floor(limit) })
      .map((r) => ({
        seq: r.seq,
        project: r.project,
        location: r.location,
        setId: r.set_id,
        ...(r.product_id !== null ? { productId: r.product_id } : {}),
        time: new Date(r.time),
      }));
  }

  /** The last seq ever assigned (sqlite_sequence survives trimming). */
  async indexFeedHead(): Promise<IndexFeedHead> {
    const feed = this.db.stmt<{ id: string }>('SELECT id FROM index_feed').get({})!;
    const seq = this.db.stmt<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'index_changes'").get({});
    return { feedId: feed.id, seq: seq?.seq ?? 0 };
  }

  async trimIndexChanges(before: Date): Promise<number> {
    return this.db.stmt('DELETE FROM index_changes WHERE time < @before').run({ before: +before }).changes;
  }
}
