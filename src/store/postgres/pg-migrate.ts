// Brings a PostgreSQL database to PG_SCHEMA_VERSION at start (SPEC §17). Everything runs in one
// transaction holding a transaction-scoped advisory lock, so replicas starting at once queue up: the first
// migrates, the others then find the current version and change nothing. PostgreSQL DDL is transactional,
// so a failed step leaves the database exactly as it was. A database of a newer version is refused.
import type pg from 'pg';
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from './pg-schema.js';

/** First key of the two-key advisory lock: "epochgate migrate" (the second is the schema's name). */
export const MIGRATION_LOCK_CLASS = 0x45474d31;

const VERSION_TABLE = `CREATE TABLE IF NOT EXISTS epochgate_schema (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version   integer NOT NULL
)`;

export async function migratePg(pool: pg.Pool, where: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Keyed by the schema, so databases holding several epochgate schemas do not wait on each other.
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))", [MIGRATION_LOCK_CLASS]);
    const found = await currentVersion(client, where);
    if (found > PG_SCHEMA_VERSION) {
      throw new Error(
        `PostgreSQL store ${where} has schema version ${found}, newer than this epochgate supports (${PG_SCHEMA_VERSION}); ` +
          'upgrade epochgate or point store.url at another database',
      );
    }
    for (const migration of PG_MIGRATIONS) {
      if (migration.version <= found) continue;
      await client.query(migration.sql);
      await client.query(
        'INSERT INTO epochgate_schema (singleton, version) VALUES (true, $1) ON CONFLICT (singleton) DO UPDATE SET version = excluded.version',
        [migration.version],
      );
    }
    await client.query('COMMIT');
    client.release();
  } catch (err) {
    // A client in an unknown state (failed transaction, dead connection) is destroyed, never reused.
    client.release(err instanceof Error ? err : true);
    throw err;
  }
}

async function currentVersion(client: pg.PoolClient, where: string): Promise<number> {
  const hasVersionTable = await client.query<{ present: boolean }>("SELECT to_regclass('epochgate_schema') IS NOT NULL AS present");
  if (!hasVersionTable.rows[0]!.present) {
    // No version but our tables present: some other program's schema; mixing ours into it could lose state.
    const foreign = await client.query<{ present: boolean }>("SELECT to_regclass('sessions') IS NOT NULL AS present");
    if (foreign.rows[0]!.present) {
      throw new Error(`PostgreSQL store ${where} is not an epochgate database (it has a sessions table but no epochgate schema version)`);
    }
    await client.query(VERSION_TABLE);
    return 0;
  }
  const row = await client.query<{ version: number }>('SELECT version FROM epochgate_schema');
  return row.rows[0]?.version ?? 0;
}
