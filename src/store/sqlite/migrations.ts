// Schema versions keyed by `PRAGMA user_version`. Append new steps (approvals, ledger …) at the end;
// never edit a shipped step, since databases in the field have already run it.
import type { Database } from 'better-sqlite3';

interface Migration {
  readonly version: number;
  readonly sql: string;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE sessions (
        session_id       TEXT    PRIMARY KEY,
        task_id          TEXT    NOT NULL,
        agent_id         TEXT    NOT NULL,
        state            TEXT    NOT NULL CHECK (state IN ('active', 'suspended', 'closed', 'revoked')),
        state_reason     TEXT,
        epoch            INTEGER NOT NULL CHECK (epoch >= 1),
        scope            TEXT    NOT NULL,
        original_scope   TEXT    NOT NULL,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL,
        lease_expires_at INTEGER NOT NULL,
        resumes          INTEGER NOT NULL DEFAULT 0,
        metadata         TEXT
      );
      -- SPEC §5 "one task run by one agent": enforced by the index itself, so two concurrent creates
      -- cannot both insert (createSession relies on it instead of a read-then-write).
      CREATE UNIQUE INDEX sessions_open_agent_task ON sessions (agent_id, task_id)
        WHERE state IN ('active', 'suspended');
      -- The lease sweep: active sessions ordered by lease end.
      CREATE INDEX sessions_state_lease ON sessions (state, lease_expires_at);
      -- The max_age sweep only ever looks at non-final sessions.
      CREATE INDEX sessions_open_created ON sessions (created_at)
        WHERE state IN ('active', 'suspended');
      CREATE INDEX sessions_agent ON sessions (agent_id, created_at);

      CREATE TABLE checkpoints (
        checkpoint_id TEXT    PRIMARY KEY,
        session_id    TEXT    NOT NULL REFERENCES sessions (session_id),
        seq           INTEGER NOT NULL,
        epoch         INTEGER NOT NULL,
        label         TEXT,
        state         TEXT,
        state_digest  TEXT    NOT NULL,
        created_at    INTEGER NOT NULL,
        UNIQUE (session_id, seq)
      );

      CREATE TABLE used_assertions (
        key        TEXT    PRIMARY KEY,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX used_assertions_expiry ON used_assertions (expires_at);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/**
 * Brings the schema to SCHEMA_VERSION. Each step and its user_version bump commit together, under an
 * immediate (write) lock so two processes opening a fresh file at once do not both run step 1.
 * Throws on a database newer than this build: writing to it with an older schema could lose state.
 */
export function migrate(db: Database, path: string): void {
  const readVersion = (): number => Number(db.pragma('user_version', { simple: true }));
  const step = db.transaction((migration: Migration): void => {
    // Re-read under the lock: another process may have migrated since we looked.
    if (readVersion() >= migration.version) return;
    db.exec(migration.sql);
    db.pragma(`user_version = ${migration.version}`);
  });
  const found = readVersion();
  if (found > SCHEMA_VERSION) {
    throw new Error(
      `SQLite store ${path} has schema version ${found}, newer than this epochgate supports (${SCHEMA_VERSION}); ` +
        'upgrade epochgate or point store.path at another file',
    );
  }
  // Version 0 with tables in it is some other program's database: adding ours to it would mix the two.
  if (found === 0 && db.prepare('SELECT count(*) AS n FROM sqlite_master').pluck().get() !== 0) {
    throw new Error(`SQLite store ${path} is not an epochgate database (it has tables but no epochgate schema version)`);
  }
  for (const migration of MIGRATIONS) {
    if (migration.version > found) step.immediate(migration);
  }
}
