// Races between two Store instances (two pools, as two replicas have) on one PostgreSQL database (SPEC §17).
// Each race is made certain, not likely: an admin connection holds the contested lock (the session row,
// an uncommitted key) until the server reports that both racers' statements are queued behind it; only
// then is it released, so the database alone decides the winner.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/pg-store.js';
import type { ReserveRequest } from '../../src/store/ledger-types.js';
import { freshPgSchema, pgAdminClient, waitForLockWaiters, type PgSchema } from '../helpers/postgres.js';
import { session } from './store-contract.js';
import { call, DAY, T0 } from './ledger-contract.js';

describe('PostgreSQL store: two instances racing on one database', () => {
  let schema: PgSchema;
  let a: PostgresStore;
  let b: PostgresStore;
  let admin: pg.Client | undefined;
  const apps: string[] = [];

  const open = async (): Promise<PostgresStore> => {
    const applicationName = `eg-race-${randomBytes(4).toString('hex')}`;
    apps.push(applicationName);
    return openPostgresStore({ url: schema.url, applicationName });
  };

  /** Holds `lockSql` in an open transaction of an admin connection. */
  const hold = async (lockSql: string, values: unknown[] = []): Promise<void> => {
    admin = await pgAdminClient();
    await admin.query(`SET search_path = ${schema.name}`);
    await admin.query('BEGIN');
    await admin.query(lockSql, values);
  };
  const release = async (how: 'COMMIT' | 'ROLLBACK' = 'COMMIT'): Promise<void> => {
    await admin!.query(how);
    await admin!.end();
    admin = undefined;
  };

  beforeEach(async () => {
    schema = await freshPgSchema('race');
    a = await open();
    b = await open();
    const created = await a.sessions.create(session());
    if (!created.ok) throw new Error('fixture session not created');
  });
  afterEach(async () => {
    await admin?.end().catch(() => undefined);
    admin = undefined;
    await a.close();
    await b.close();
    apps.length = 0;
    await schema.drop();
  });

  /** A reservation by the replica `replicaId`. */
  const by = (replicaId: string, over: Partial<ReserveRequest> = {}): ReserveRequest => call({ ...over, replicaId });

  const resumeFrom = (expectedEpoch: number) => ({
    expectedEpoch, scope: ['billing'], now: T0 + 1000, leaseExpiresAt: T0 + DAY, maxResumes: 10,
  });

  it('lets exactly one of two resumes with the same expected epoch win', async () => {
    await hold("SELECT 1 FROM sessions WHERE session_id = 'ses_a' FOR UPDATE");
    const racing = Promise.all([a.sessions.resume('ses_a', resumeFrom(1)), b.sessions.resume('ses_a', resumeFrom(1))]);
    await waitForLockWaiters(apps, 2);
    await release();
    const results = await racing;
    expect(results.map((r) => r.ok).sort()).toEqual([false, true]);
    const loser = results.find((r) => !r.ok);
    expect(loser).toMatchObject({ ok: false, current: { epoch: 2, resumes: 1 } });
    expect(await b.sessions.get('ses_a')).toMatchObject({ epoch: 2, resumes: 1, state: 'active' });
    expect(await a.sessions.get('ses_a')).toMatchObject({ epoch: 2, resumes: 1, state: 'active' });
  });

  it('reserves one Idempotency-Key once: one instance forwards, the other gets in_progress', async () => {
    const keyed = (replicaId: string) => by(replicaId, { idempotencyKey: 'key-1', fingerprint: 'fp-K' });
    await hold("SELECT 1 FROM sessions WHERE session_id = 'ses_a' FOR UPDATE");
    const racing = Promise.all([a.ledger.reserve(keyed('rep_a')), b.ledger.reserve(keyed('rep_b'))]);
    await waitForLockWaiters(apps, 2);
    await release();
    const kinds = (await racing).map((r) => r.kind).sort();
    expect(kinds).toEqual(['forward', 'in_progress']);
    const listed = await a.ledger.list('ses_a', T0 + 10_000);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ kind: 'key', idempotencyKey: 'key-1', state: 'in_flight', occurrence: 1 });
  });

  it('numbers racing calls of one fingerprint 1 and 2, and after a resume replays each entry exactly once', async () => {
    await hold("SELECT 1 FROM sessions WHERE session_id = 'ses_a' FOR UPDATE");
    const first = Promise.all([a.ledger.reserve(by('rep_a')), b.ledger.reserve(by('rep_b'))]);
    await waitForLockWaiters(apps, 2);
    await release();
    const forwarded = await first;
    expect(forwarded.map((r) => (r.kind === 'forward' ? r.entry.occurrence : r.kind)).sort()).toEqual([1, 2]);
    for (const r of forwarded) {
      if (r.kind !== 'forward') throw new Error(r.kind);
      const body = Buffer.from(`answer ${r.entry.occurrence}`);
      await a.ledger.complete(r.entry.entryId, r.entry.attempt, { status: 201, headers: {}, body, bodySha256: 'x', bodyBytes: body.length, now: T0 + 50 });
    }
    expect((await b.sessions.resume('ses_a', resumeFrom(1))).ok).toBe(true);

    await hold("SELECT 1 FROM sessions WHERE session_id = 'ses_a' FOR UPDATE");
    const again = Promise.all([a.ledger.reserve(by('rep_a', { epoch: 2 })), b.ledger.reserve(by('rep_b', { epoch: 2 }))]);
    await waitForLockWaiters(apps, 2);
    await release();
    const replays = await again;
    expect(replays.map((r) => r.kind)).toEqual(['replay', 'replay']);
    const bodies = replays.map((r) => (r.kind === 'replay' ? r.entry.response?.body?.toString() : undefined)).sort();
    expect(bodies).toEqual(['answer 1', 'answer 2']);
    expect((await a.ledger.reserve(by('rep_a', { epoch: 2 }))).kind).toBe('forward');
  });

  it('accepts an assertion id once across instances', async () => {
    // An uncommitted insert of the same id: every racer's insert waits on it, then sees the conflict.
    await hold('INSERT INTO used_assertions (key, expires_at) VALUES ($1, $2)', ['jti-1', T0 + 60_000]);
    const racing = Promise.all([a, b, a, b].map((s) => s.assertionIds.use('jti-1', T0 + 60_000, T0)));
    await waitForLockWaiters(apps, 4);
    await release('ROLLBACK');
    expect((await racing).sort()).toEqual([false, false, false, true]);
    expect(await b.assertionIds.use('jti-1', T0 + 60_000, T0 + 1)).toBe(false);
  });

  it('sees a session created, suspended and checkpointed through one instance on the other at once', async () => {
    await a.sessions.transition('ses_a', { from: ['active'], to: 'suspended', reason: 'asked', now: T0 + 5 });
    expect(await b.sessions.get('ses_a')).toMatchObject({ state: 'suspended', stateReason: 'asked', epoch: 1 });
    await b.sessions.resume('ses_a', resumeFrom(1));
    const checkpoint = { checkpointId: 'c1', sessionId: 'ses_a', epoch: 2, label: null, state: null, stateDigest: 'x', createdAt: T0 + 9 };
    expect(await a.sessions.appendCheckpoint({ ...checkpoint, epoch: 1 })).toBeNull();
    expect(await a.sessions.appendCheckpoint(checkpoint)).toMatchObject({ seq: 1, epoch: 2 });
    expect(await b.sessions.latestCheckpoint('ses_a')).toMatchObject({ checkpointId: 'c1', seq: 1 });
  });
});
