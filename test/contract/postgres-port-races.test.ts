// Races on the PostgreSQL published keys and webhook outbox between two Store instances (two pools, as two
// replicas have) on one database (SPEC §17, §18). Each race is made certain, not likely: an admin
// connection holds the contested row or an uncommitted key until the server reports the racers queued
// behind it (or, for SKIP LOCKED, while they run), so the database alone decides the outcome.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewDelivery } from '../../src/store/notification-types.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/pg-store.js';
import { freshPgSchema, pgAdminClient, waitForLockWaiters, type PgSchema } from '../helpers/postgres.js';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const jwk = (kid: string, x: string) => ({ kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' });
const delivery = (id: string, createdAt = T0): NewDelivery => ({
  deliveryId: id, event: 'approval.request', url: 'https://hooks.example/a', payload: `{"delivery_id":"${id}"}`, createdAt, giveUpAt: createdAt + 86_400_000,
});

describe('PostgreSQL store: keys and outbox raced by two instances on one database', () => {
  let schema: PgSchema;
  let a: PostgresStore;
  let b: PostgresStore;
  let admin: pg.Client | undefined;
  const apps: string[] = [];

  const open = async (): Promise<PostgresStore> => {
    const applicationName = `eg-port-race-${randomBytes(4).toString('hex')}`;
    apps.push(applicationName);
    return openPostgresStore({ url: schema.url, applicationName });
  };
  /** Runs `lockSql` in an open transaction of an admin connection. */
  const hold = async (lockSql: string, values: unknown[] = []): Promise<void> => {
    admin = await pgAdminClient();
    await admin.query(`SET search_path = ${schema.name}`);
    await admin.query('BEGIN');
    await admin.query(lockSql, values);
  };
  const release = async (): Promise<void> => {
    await admin!.query('COMMIT');
    await admin!.end();
    admin = undefined;
  };

  beforeEach(async () => {
    schema = await freshPgSchema('portrace');
    a = await open();
    b = await open();
  });
  afterEach(async () => {
    await admin?.end().catch(() => undefined);
    admin = undefined;
    await a.close();
    await b.close();
    apps.length = 0;
    await schema.drop();
  });

  it('answers the first publication of a kid to both racers when it commits while they wait on it', async () => {
    await hold('INSERT INTO signing_keys (kid, jwk, published_at) VALUES ($1, $2, $3)', ['k1', JSON.stringify(jwk('k1', 'first')), T0]);
    const racing = Promise.all([
      a.keys.publish({ kid: 'k1', jwk: jwk('k1', 'from-a'), publishedAt: T0 + 1 }),
      b.keys.publish({ kid: 'k1', jwk: jwk('k1', 'from-b'), publishedAt: T0 + 2 }),
    ]);
    await waitForLockWaiters(apps, 2);
    await release();
    const first = { kid: 'k1', jwk: jwk('k1', 'first'), publishedAt: T0, retiredAt: null };
    expect(await racing).toEqual([first, first]);
    expect(await b.keys.list({ includeRetired: true })).toEqual([first]);
  });

  it('retires a key once when two instances retire it at once: both answer the first retired_at', async () => {
    await a.keys.publish({ kid: 'k1', jwk: jwk('k1', 'x'), publishedAt: T0 });
    await hold("SELECT 1 FROM signing_keys WHERE kid = 'k1' FOR UPDATE");
    const racing = Promise.all([a.keys.retire('k1', T0 + 10), b.keys.retire('k1', T0 + 20)]);
    await waitForLockWaiters(apps, 2);
    await release();
    const [ra, rb] = await racing;
    expect(ra!.retiredAt).toBe(rb!.retiredAt);
    expect([T0 + 10, T0 + 20]).toContain(ra!.retiredAt);
    expect((await a.keys.get('k1'))!.retiredAt).toBe(ra!.retiredAt);
  });

  it('skips a delivery another transaction has locked instead of waiting, and takes it once it is free', async () => {
    await a.notifications.enqueue([delivery('dlv_a', T0), delivery('dlv_b', T0 + 1)]);
    await hold("SELECT 1 FROM notifications WHERE delivery_id = 'dlv_a' FOR UPDATE");
    // Answers while the admin still holds dlv_a: SKIP LOCKED, no lock wait.
    const first = await a.notifications.claimDue({ claim: 'clm_a', now: T0 + 10, leaseMs: 60_000, limit: 10 });
    expect(first.map((d) => d.deliveryId)).toEqual(['dlv_b']);
    await release();
    const second = await b.notifications.claimDue({ claim: 'clm_b', now: T0 + 10, leaseMs: 60_000, limit: 10 });
    expect(second.map((d) => [d.deliveryId, d.attempts])).toEqual([['dlv_a', 1]]);
    expect(await a.notifications.claimDue({ claim: 'clm_c', now: T0 + 10, leaseMs: 60_000, limit: 10 })).toEqual([]);
  });

  it('does not hand out a delivery whose claim committed while the claimer waited to lock it', async () => {
    await a.notifications.enqueue([delivery('dlv_a')]);
    // The admin claims dlv_a without committing; a concurrent claim skips it, and after the commit the
    // lease keeps every claim away until it ends.
    await hold("UPDATE notifications SET lease_owner = 'clm_admin', lease_until = $1, attempts = attempts + 1 WHERE delivery_id = 'dlv_a'", [T0 + 60_000]);
    expect(await b.notifications.claimDue({ claim: 'clm_b', now: T0 + 10, leaseMs: 60_000, limit: 10 })).toEqual([]);
    await release();
    expect(await b.notifications.claimDue({ claim: 'clm_b', now: T0 + 10, leaseMs: 60_000, limit: 10 })).toEqual([]);
    expect(await b.notifications.settle('dlv_a', 'clm_b', { kind: 'delivered', status: 200, now: T0 + 20 })).toBe(false);
    const after = await a.notifications.claimDue({ claim: 'clm_a', now: T0 + 60_000, leaseMs: 60_000, limit: 10 });
    expect(after.map((d) => [d.deliveryId, d.attempts])).toEqual([['dlv_a', 2]]);
  });

  it('splits 40 due deliveries between concurrent claims of both instances without overlap', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `dlv_${String(i).padStart(2, '0')}`);
    await a.notifications.enqueue(ids.map((id, i) => delivery(id, T0 + i)));
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).notifications.claimDue({ claim: `clm_${i}`, now: T0 + 100, leaseMs: 60_000, limit: 5 })),
    );
    const taken = claims.flat().map((d) => d.deliveryId);
    expect(taken.slice().sort()).toEqual(ids);
    for (const c of claims) expect(c.length).toBe(5);
    expect((await a.notifications.list({ state: 'pending', limit: 100 })).every((d) => d.attempts === 1)).toBe(true);
  });
});
