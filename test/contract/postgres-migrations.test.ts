// Schema creation and migration of the PostgreSQL store at start (SPEC §17): under an advisory lock (so
// replicas starting at once are safe), refused on a database of a newer schema version or a foreign one,
// and no open ever leaves the URL's password in a message.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { MIGRATION_LOCK_CLASS } from '../../src/store/postgres/pg-migrate.js';
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from '../../src/store/postgres/pg-schema.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/pg-store.js';
import { freshPgSchema, pgAdmin, pgAdminClient, pgRunUrl, waitForLockWaiters, type PgSchema } from '../helpers/postgres.js';
import { session } from './store-contract.js';

const TABLES = [
  'anchors', 'approvals', 'checkpoints', 'console_sessions', 'epochgate_schema', 'ledger_counters', 'ledger_entries', 'mcp_sessions',
  'notifications', 'replicas', 'session_epochs', 'sessions', 'signing_keys', 'used_assertions',
];

describe('PostgreSQL store: schema and migrations', () => {
  const schemas: PgSchema[] = [];
  const stores: PostgresStore[] = [];
  const fresh = async (): Promise<PgSchema> => schemas[schemas.push(await freshPgSchema('mig')) - 1]!;
  const open = async (url: string, applicationName?: string): Promise<PostgresStore> =>
    stores[stores.push(await openPostgresStore({ url, ...(applicationName ? { applicationName } : {}) })) - 1]!;
  const tables = async (schema: string): Promise<string[]> =>
    (await pgAdmin<{ t: string }>('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema])).map((r) => r.t);
  const version = async (schema: string): Promise<number> =>
    (await pgAdmin<{ v: number }>(`SELECT version AS v FROM ${schema}.epochgate_schema`))[0]!.v;

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const s of schemas.splice(0)) await s.drop();
  });

  it('creates the whole schema in an empty database and records its version', async () => {
    const schema = await fresh();
    const store = await open(schema.url);
    expect(await tables(schema.name)).toEqual(TABLES);
    expect(await version(schema.name)).toBe(PG_SCHEMA_VERSION);
    expect((await store.sessions.create(session())).ok).toBe(true);
  });

  it('lets two instances that start at once both open, migrating once', async () => {
    const schema = await fresh();
    const apps = [`eg-mig-${randomBytes(4).toString('hex')}`, `eg-mig-${randomBytes(4).toString('hex')}`];
    // Hold the migration lock so both openers are certainly queued on it before either migrates.
    const admin = await pgAdminClient();
    await admin.query('SELECT pg_advisory_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema.name]);
    const opening = Promise.all(apps.map((app) => open(schema.url, app)));
    try {
      await waitForLockWaiters(apps, 2);
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema.name]);
      await admin.end();
    }
    const [first, second] = await opening;
    expect(await tables(schema.name)).toEqual(TABLES);
    expect(await pgAdmin(`SELECT * FROM ${schema.name}.epochgate_schema`)).toEqual([{ singleton: true, version: PG_SCHEMA_VERSION }]);
    expect((await first!.sessions.create(session())).ok).toBe(true);
    expect(await second!.sessions.get('ses_a')).toMatchObject({ sessionId: 'ses_a', epoch: 1 });
  });

  it('opens an existing database again without changing it', async () => {
    const schema = await fresh();
    const first = await open(schema.url);
    await first.sessions.create(session());
    await first.close();
    const again = await open(schema.url);
    expect(await again.sessions.get('ses_a')).toMatchObject({ sessionId: 'ses_a' });
    expect(await version(schema.name)).toBe(PG_SCHEMA_VERSION);
  });

  it('brings a version 1 database to the current version, keeping its rows (bindings without URL elicitation, epoch history from the current epoch)', async () => {
    const schema = await fresh();
    const admin = await pgAdminClient();
    try {
      await admin.query(`SET search_path = ${schema.name}`);
      await admin.query(PG_MIGRATIONS.find((m) => m.version === 1)!.sql);
      await admin.query('CREATE TABLE epochgate_schema (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), version integer NOT NULL)');
      await admin.query('INSERT INTO epochgate_schema (version) VALUES (1)');
      await admin.query(
        `INSERT INTO sessions (session_id, task_id, agent_id, state, epoch, scope, original_scope, created_at, updated_at, lease_expires_at)
         VALUES ('ses_old', 't-1', 'bot', 'active', 1, '[]', '[]', 1, 1, 2),
                ('ses_resumed', 't-2', 'bot', 'active', 3, '["crm"]', '["crm"]', 1, 5, 9)`,
      );
      await admin.query("INSERT INTO mcp_sessions (tool, mcp_session_id, session_id, created_at) VALUES ('crm', 'm-1', 'ses_old', 1)");
    } finally {
      await admin.end();
    }
    const old = await tables(schema.name);
    expect(old).not.toContain('signing_keys');
    const store = await open(schema.url);
    expect(await version(schema.name)).toBe(PG_SCHEMA_VERSION);
    expect(PG_SCHEMA_VERSION).toBe(3);
    expect(await tables(schema.name)).toEqual(TABLES);
    expect(await store.sessions.get('ses_old')).toMatchObject({ sessionId: 'ses_old', epoch: 1, state: 'active' });
    expect(await store.mcpSessions.boundSession('crm', 'm-1')).toBe('ses_old');
    expect(await store.mcpSessions.urlElicitation('crm', 'm-1')).toBe(false);
    // Epoch history starts at the migration: one row for the current epoch, marked when it is not epoch 1.
    const first = { sessionId: 'ses_old', epoch: 1, startedAt: 1, cause: 'create', scope: [], agentId: 'bot' };
    expect(await store.sessions.listEpochs('ses_old', 10)).toEqual([first]);
    const marked = { sessionId: 'ses_resumed', epoch: 3, startedAt: null, cause: 'before_history', scope: ['crm'], agentId: 'bot' };
    expect(await store.sessions.listEpochs('ses_resumed', 10)).toEqual([marked]);
    expect(await store.notifications.countByState()).toEqual({ pending: 0, delivered: 0, failed: 0 });
  });

  it('refuses to start on a database of a newer schema version, changing nothing', async () => {
    const schema = await fresh();
    await (await open(schema.url)).close();
    await pgAdmin(`UPDATE ${schema.name}.epochgate_schema SET version = $1`, [PG_SCHEMA_VERSION + 1]);
    await expect(openPostgresStore({ url: schema.url })).rejects.toThrow(
      `has schema version ${PG_SCHEMA_VERSION + 1}, newer than this epochgate supports (${PG_SCHEMA_VERSION})`,
    );
    expect(await version(schema.name)).toBe(PG_SCHEMA_VERSION + 1);
    expect(await tables(schema.name)).toEqual(TABLES);
  });

  it('refuses a database that has our table names but no epochgate schema version', async () => {
    const schema = await fresh();
    await pgAdmin(`CREATE TABLE ${schema.name}.sessions (id int)`);
    await expect(openPostgresStore({ url: schema.url })).rejects.toThrow('is not an epochgate database');
    expect(await tables(schema.name)).toEqual(['sessions']);
  });

  it('never puts the password of store.url in a start-up error', async () => {
    const url = new URL(pgRunUrl());
    // The run's own password when it has one (embedded server), else any (trust authentication ignores it).
    if (url.password === '') url.password = 'S3cr3t-pw';
    const secret = decodeURIComponent(url.password);
    url.pathname = `/no_such_db_${randomBytes(4).toString('hex')}`;
    const failure = await openStore({ kind: 'postgres', url: url.toString(), poolSize: 1 }).then(
      () => new Error('opened'),
      (err: unknown) => err as Error,
    );
    expect(failure.message).toMatch(/^PostgreSQL store postgres:\/\/[^:]+:\*\*\*@/);
    expect(failure.message).toContain('does not exist');
    expect(JSON.stringify({ message: failure.message, stack: failure.stack })).not.toContain(secret);
  });

  it('answers through openStore for kind postgres with the configured pool size', async () => {
    const schema = await fresh();
    const store = await openStore({ kind: 'postgres', url: schema.url, poolSize: 3 });
    stores.push(store as PostgresStore);
    expect(store.kind).toBe('postgres');
    expect((store as unknown as { pool: { options: { max: number } } }).pool.options.max).toBe(3);
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
