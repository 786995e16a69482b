// PostgreSQL helpers for test files. The run's database comes from the global setup (inject('pgUrl'));
// each Store under test gets a schema of its own in it (fresh, empty), selected through the connection's
// search_path, so parallel test files and tests never see each other's rows.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** The run's database (created for this run, dropped at its end). */
export function pgRunUrl(): string {
  const url = inject('pgUrl');
  if (!url) throw new Error('no PostgreSQL for this run: the global setup starts one only for test files named *postgres*');
  return url;
}

export interface PgSchema {
  readonly name: string;
  /** The run's URL with search_path set to this schema: a Store opened on it lives in the schema. */
  readonly url: string;
  drop(): Promise<void>;
}

/** A new empty schema (the Store migrates it when opened). */
export async function freshPgSchema(prefix = 's'): Promise<PgSchema> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await pgAdmin(`CREATE SCHEMA ${name}`);
  return { name, url: schemaUrl(name), drop: () => pgAdmin(`DROP SCHEMA IF EXISTS ${name} CASCADE`).then(() => undefined) };
}

/** The run's URL with the connection's search_path set to `schema`. */
export function schemaUrl(schema: string, base = pgRunUrl()): string {
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** One statement on a short-lived admin connection to the run's database. */
export async function pgAdmin<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: pgRunUrl() });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** An admin connection kept open (to hold a lock while racers queue behind it). */
export async function pgAdminClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: pgRunUrl() });
  await client.connect();
  return client;
}

/** Kills every server connection opened under `applicationName` (a Store's pool); returns how many. */
export async function terminatePgConnections(applicationName: string): Promise<number> {
  const rows = await pgAdmin<{ killed: boolean }>(
    `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1`,
    [applicationName],
  );
  return rows.filter((r) => r.killed).length;
}

/**
 * Resolves once `count` connections of `applicationName` are waiting for a lock (the admin connection
 * holds it): the racers have all passed their own checks and are queued on the same row or lock. Polls
 * pg_stat_activity, the server's own view of who waits, rather than sleeping a guessed time.
 */
export async function waitForLockWaiters(applicationNames: readonly string[], count: number, deadlineMs = 15_000): Promise<void> {
  const client = await pgAdminClient();
  try {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = ANY ($1) AND wait_event_type = 'Lock'`,
        [applicationNames],
      );
      if (rows[0]!.n >= count) return;
      if (Date.now() > deadline) throw new Error(`only ${rows[0]!.n} of ${count} connections queued on the lock`);
      await client.query('SELECT pg_sleep(0.02)');
    }
  } finally {
    await client.end();
  }
}
