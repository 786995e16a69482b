// Schema versions keyed by `PRAGMA user_version`. Append new steps (approvals, ledger …) at the end;
// never edit a shipped step, since databases in the field have already run it.
import type { Database } from 'better-sqlite3';

import type { Migration } from './migration-steps-core.js';
import { CORE_STEPS } from './migration-steps-core.js';
import { SHARED_STATE_STEPS } from './migration-steps-shared.js';

export type { Migration } from './migration-steps-core.js';

/** Exported for the migration tests, which build databases of older versions step by step. */
export const MIGRATIONS: readonly Migration[] = [...CORE_STEPS, ...SHARED_STATE_STEPS];

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

/** Every table the current schema has: a database claiming our version but missing one is damaged. */
const EXPECTED_TABLES = ['sessions', 'checkpoints', 'used_assertions', 'approvals', 'ledger_entries', 'ledger_counters', 'mcp_sessions', 'anchors', 'replicas', 'signing_keys', 'notifications', 'console_sessions', 'session_epochs'];

export function checkSchema(db: Database, path: string): void {
  const present = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
  const missing = EXPECTED_TABLES.filter((table) => !present.has(table));
  if (missing.length > 0) {
    throw new Error(`SQLite store ${path} is damaged or not an epochgate database: tables missing: ${missing.join(', ')}`);
  }
}
