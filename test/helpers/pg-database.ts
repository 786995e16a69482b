// A database of its own for a test file that must not share one with the rest of the run (two gateways
// sweeping replicas, a test that cuts connections), created on the run's PostgreSQL server
// (pgRunUrl() in postgres.ts) and dropped afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface FreshDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

export async function freshDatabase(runUrl: string, label: string): Promise<FreshDatabase> {
  const name = `epochgate_${label}_${randomBytes(4).toString('hex')}`;
  await admin(runUrl, `CREATE DATABASE ${name}`);
  const url = new URL(runUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    // FORCE (PostgreSQL 13+): connections a failed test left open do not keep the database alive.
    drop: async () => void (await admin(runUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

/** Runs one statement on its own short connection. */
export async function admin(url: string, statement: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await client.query(statement, values);
  } finally {
    await client.end();
  }
}
