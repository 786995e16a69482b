// Fail closed and recover (SPEC §14, §17): a PostgreSQL connection that dies under a running Store answers
// store_unavailable (never a crash, never a silent success), and the Store recovers by itself when the
// database answers again; ping(), which drives /readyz, follows it.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/pg-store.js';
import { freshPgSchema, terminatePgConnections, type PgSchema } from '../helpers/postgres.js';
import { startPgProxy, type PgProxy } from '../helpers/postgres-proxy.js';
import { session } from './store-contract.js';

const isStoreUnavailable = (err: unknown): boolean => err instanceof GatewayError && err.code === 'store_unavailable';

/** The outcome of one operation: its value, or 'store_unavailable'; anything else fails the test. */
async function outcome<T>(operation: Promise<T>): Promise<T | 'store_unavailable'> {
  try {
    return await operation;
  } catch (err) {
    if (isStoreUnavailable(err)) return 'store_unavailable';
    throw err;
  }
}

describe('PostgreSQL store: lost connections', () => {
  let schema: PgSchema;
  let store: PostgresStore;
  let proxy: PgProxy | undefined;
  const errors: unknown[] = [];
  let errorSeen: (() => void) | undefined;
  const applicationName = `eg-recovery-${randomBytes(4).toString('hex')}`;

  const open = (url: string) =>
    openPostgresStore({
      url,
      poolSize: 4,
      applicationName,
      onError: (err) => {
        errors.push(err);
        errorSeen?.();
      },
    });

  beforeEach(async () => {
    errors.length = 0;
    schema = await freshPgSchema('rec');
  });
  afterEach(async () => {
    await store.close();
    await proxy?.close();
    proxy = undefined;
    await schema.drop();
  });

  it('answers store_unavailable or succeeds after its connections are killed, then recovers by itself', async () => {
    store = await open(schema.url);
    await store.sessions.create(session());
    // Four connections in the pool, all idle after this.
    await Promise.all(Array.from({ length: 4 }, () => store.sessions.get('ses_a')));
    const killed = await terminatePgConnections(applicationName);
    expect(killed).toBeGreaterThanOrEqual(1);
    const first = await outcome(store.sessions.get('ses_a'));
    expect(first === 'store_unavailable' || first?.sessionId === 'ses_a').toBe(true);
    // However many dead connections the pool still held, each failure discards one: within pool size + 1
    // attempts an operation succeeds on a fresh connection, without anyone reopening the store.
    const outcomes = [first];
    while (outcomes.at(-1) === 'store_unavailable' && outcomes.length <= 5) outcomes.push(await outcome(store.sessions.get('ses_a')));
    expect(outcomes.at(-1)).toMatchObject({ sessionId: 'ses_a', epoch: 1 });
    await expect(store.ping()).resolves.toBeUndefined();
    const resumed = await store.sessions.resume('ses_a', { expectedEpoch: 1, scope: ['billing'], now: 1, leaseExpiresAt: 2, maxResumes: 5 });
    expect(resumed).toMatchObject({ ok: true, session: { epoch: 2 } });
  });

  it('fails ping and every operation with store_unavailable while the database is unreachable, and recovers when it is back', async () => {
    proxy = await startPgProxy(schema.url);
    store = await open(proxy.url);
    await store.sessions.create(session());
    await expect(store.ping()).resolves.toBeUndefined();

    const seen = new Promise<void>((resolve) => (errorSeen = resolve));
    await proxy.cut();
    await expect(store.ping()).rejects.toSatisfy(isStoreUnavailable);
    await expect(store.sessions.get('ses_a')).rejects.toSatisfy(isStoreUnavailable);
    await expect(store.ledger.list('ses_a', 0)).rejects.toSatisfy(isStoreUnavailable);
    await seen;
    expect(errors.length).toBeGreaterThanOrEqual(3);

    await proxy.restore();
    await expect(store.ping()).resolves.toBeUndefined();
    expect(await store.sessions.get('ses_a')).toMatchObject({ sessionId: 'ses_a', epoch: 1 });
  });

  it('fails with store_unavailable once closed', async () => {
    store = await open(schema.url);
    await store.close();
    await expect(store.ping()).rejects.toSatisfy(isStoreUnavailable);
    await expect(store.sessions.create(session())).rejects.toSatisfy(isStoreUnavailable);
    await expect(store.close()).resolves.toBeUndefined();
  });
});
