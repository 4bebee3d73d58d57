/**
 * SQLite schema and its migrations. The schema version lives in `PRAGMA user_version`;
 * migration N takes the database from version N-1 to N inside one transaction, so a crash
 * mid-migration leaves the previous version intact.
 *
 * Ids are TEXT with the default BINARY collation: SQLite compares UTF-8 bytes with memcmp,
 * which is exactly the code-point order the store contract asks lists to follow.
 */
import type Database from 'better-sqlite3';

export const MIGRATIONS: readonly string[] = [
  // 1: initial schema.
  `
  CREATE TABLE product_sets (
    project      TEXT    NOT NULL,
    location     TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    display_name TEXT    NOT NULL,
    create_time  INTEGER NOT NULL, -- ms since epoch
    update_time  INTEGER NOT NULL,
    PRIMARY KEY (project, location, id)
  );

  CREATE TABLE products (
    project          TEXT    NOT NULL,
    location         TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    display_name     TEXT    NOT NULL,
    description      TEXT    NOT NULL,
    product_category TEXT    NOT NULL,
    labels           TEXT    NOT NULL, -- JSON KeyValue[]
    create_time      INTEGER NOT NULL,
    update_time      INTEGER NOT NULL,
    PRIMARY KEY (project, location, id)
  );

  CREATE TABLE reference_images (
    project        TEXT    NOT NULL,
    location       TEXT    NOT NULL,
    product_id     TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    uri            TEXT    NOT NULL,
    bounding_polys TEXT    NOT NULL, -- JSON PolyRecord[]
    create_time    INTEGER NOT NULL,
    state          TEXT    NOT NULL,
    error          TEXT,             -- JSON StatusRecord
    regions        TEXT    NOT NULL, -- JSON, binary fields base64 (see codec.ts)
    PRIMARY KEY (project, location, product_id, id)
  );

  -- Both directions are queried (products of a set, sets of a product), and both
  -- cascades delete by one side, so each side gets a covering index.
  CREATE TABLE memberships (
    project    TEXT NOT NULL,
    location   TEXT NOT NULL,
    set_id     TEXT NOT NULL,
    product_id TEXT NOT NULL,
    PRIMARY KEY (project, location, set_id, product_id)
  ) WITHOUT ROWID;
  CREATE INDEX memberships_by_product ON memberships (project, location, product_id, set_id);

  -- location is '' for project-level operations: a NULL in a primary key would not be
  -- unique in SQLite, and '' is never a valid location segment.
  CREATE TABLE operations (
    project          TEXT    NOT NULL,
    location         TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    request          TEXT,             -- JSON
    done             INTEGER NOT NULL,
    metadata         TEXT,             -- JSON
    response         TEXT,             -- JSON
    error            TEXT,             -- JSON StatusRecord
    checkpoint       TEXT,             -- JSON
    cancel_requested INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_until      INTEGER,
    create_time      INTEGER NOT NULL,
    update_time      INTEGER NOT NULL,
    PRIMARY KEY (project, location, id)
  );
  -- claimOperation scans pending operations oldest first; done ones never qualify.
  CREATE INDEX operations_pending ON operations (create_time, project, location, id) WHERE done = 0;
  `,
  // 2: product set index stamps, which migration 4's change feed replaced; the columns
  // stay (SQLite cannot drop them in place on old versions) and are no longer written.
  `
  ALTER TABLE product_sets ADD COLUMN index_stamp      TEXT    NOT NULL DEFAULT '';
  ALTER TABLE product_sets ADD COLUMN index_stamp_time INTEGER NOT NULL DEFAULT 0; -- ms since epoch
  `,
  // 3: per-item results of operations, in chunks (putOperationResults / listOperationResults).
  // location is '' for project-level operations, as in the operations table.
  `
  CREATE TABLE operation_results (
    project  TEXT    NOT NULL,
    location TEXT    NOT NULL,
    id       TEXT    NOT NULL,
    chunk    INTEGER NOT NULL,
    items    TEXT    NOT NULL, -- JSON array
    PRIMARY KEY (project, location, id, chunk)
  ) WITHOUT ROWID;
  `,
  // 4: the index change feed (IndexFeedStore.appendIndexChanges). AUTOINCREMENT: a seq is
  // never reused, even after the newest changes are trimmed. product_id NULL: the set itself.
  // index_feed holds the feed's identity, made once with the table.
  `
  CREATE TABLE index_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    project    TEXT    NOT NULL,
    location   TEXT    NOT NULL,
    set_id     TEXT    NOT NULL,
    product_id TEXT,
    time       INTEGER NOT NULL -- ms since epoch
  );
  CREATE INDEX index_changes_time ON index_changes (time);
  CREATE TABLE index_feed (id TEXT NOT NULL);
  INSERT INTO index_feed (id) VALUES (lower(hex(randomblob(12))));
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to SCHEMA_VERSION; refuses a database written by a newer build. */
export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`SQLite schema version ${current} is newer than this build supports (${SCHEMA_VERSION}); refusing to open.`);
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    // IMMEDIATE takes the write lock up front so two processes opening a fresh file
    // cannot both run the same migration.
    db.transaction(() => {
      const seen = db.pragma('user_version', { simple: true }) as number;
      if (seen !== v) return; // another process migrated meanwhile
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
