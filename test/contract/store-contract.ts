// The one Store contract suite (DESIGN rule 7): every backend runs exactly these tests.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import type { SessionRecord, Store } from '../../src/store/types.js';
import { checkpoint, LEASE, resumeAt, session, T0, type ContractBackend, storePerTest } from './store-fixtures.js';

export { session, type ContractBackend } from './store-fixtures.js';

export function describeStoreContract(backend: ContractBackend): void {
  describe(`Store contract: ${backend.name}`, () => {
    // Cases across two Store instances exist only for backends whose state outlives one (memory: it cannot),
    // so they are defined for those backends rather than skipped for the others (no skipped tests).
    const persistent = backend.openPeer !== undefined;
    let store: Store;
    /** A second instance over the same state, closed after the test. */
    const peer = async (): Promise<Store> => extra[extra.push(await backend.openPeer!()) - 1]!;
    const create = async (over: Partial<SessionRecord> = {}): Promise<SessionRecord> => {
      const result = await store.sessions.create(session(over));
      if (!result.ok) throw new Error('fixture session not created');
      return result.session;
    };
    const { extra } = storePerTest(backend, (opened) => {
      store = opened;
    });

    describe('sessions', () => {
      it('creates a session and reads it back with scope and metadata intact', async () => {
        const metadata = { ticket: 'OPS-1', nested: { list: [1, 'two', null], ok: true }, text: 'ünïcode ✓' };
        const result = await store.sessions.create(session({ metadata }));
        expect(result).toEqual({ ok: true, session: session({ metadata }) });
        expect(await store.sessions.get('ses_a')).toEqual(session({ metadata }));
        expect(await store.sessions.get('ses_missing')).toBeNull();
      });

      it('refuses a second non-final session for the same agent and task with existingSessionId', async () => {
        await create();
        expect(await store.sessions.create(session({ sessionId: 'ses_b' }))).toEqual({ ok: false, existingSessionId: 'ses_a' });
        await store.sessions.transition('ses_a', { from: ['active'], to: 'suspended', reason: 'asked', now: T0 });
        expect(await store.sessions.create(session({ sessionId: 'ses_b' }))).toEqual({ ok: false, existingSessionId: 'ses_a' });
        expect(await store.sessions.get('ses_b')).toBeNull();
        expect((await store.sessions.create(session({ sessionId: 'ses_c', agentId: 'agent-2' }))).ok).toBe(true);
        expect((await store.sessions.create(session({ sessionId: 'ses_d', taskId: 'task-2' }))).ok).toBe(true);
      });

      it.each(['closed', 'revoked'] as const)('allows the same agent and task again once the session is %s', async (to) => {
        await create();
        await store.sessions.transition('ses_a', { from: ['active'], to, reason: 'done', now: T0 });
        expect((await store.sessions.create(session({ sessionId: 'ses_b' }))).ok).toBe(true);
      });

      it('keeps stored state safe from callers that mutate returned records', async () => {
        const created = await create({ metadata: { a: { b: 1 } } });
        // Frozen records throw in strict mode, copies absorb the change: either is fine, leaking is not.
        const attempt = (mutate: () => unknown): void => {
          try {
            mutate();
          } catch {}
        };
        for (const record of [created, (await store.sessions.get('ses_a'))!]) {
          attempt(() => (record.scope as string[]).push('admin'));
          attempt(() => ((record as { epoch: number }).epoch = 99));
          attempt(() => ((record.metadata as { a: { b: number } }).a.b = 2));
        }
        expect(await store.sessions.get('ses_a')).toEqual(session({ metadata: { a: { b: 1 } } }));
      });

      it('lists sessions by state, agent and task, oldest first, with a limit', async () => {
        await create({ sessionId: 'ses_3', createdAt: T0 + 3 });
        await create({ sessionId: 'ses_1', taskId: 't1', createdAt: T0 + 1 });
        await create({ sessionId: 'ses_2', taskId: 't2', agentId: 'agent-2', createdAt: T0 + 2 });
        await store.sessions.transition('ses_1', { from: ['active'], to: 'closed', reason: null, now: T0 });
        const ids = async (filter: Parameters<Store['sessions']['list']>[0]): Promise<string[]> =>
          (await store.sessions.list(filter)).map((s) => s.sessionId);
        expect(await ids({})).toEqual(['ses_1', 'ses_2', 'ses_3']);
        expect(await ids({ state: 'active' })).toEqual(['ses_2', 'ses_3']);
        expect(await ids({ agentId: 'agent-1' })).toEqual(['ses_1', 'ses_3']);
        expect(await ids({ taskId: 't2' })).toEqual(['ses_2']);
        expect(await ids({ state: 'closed', agentId: 'agent-1', taskId: 't1' })).toEqual(['ses_1']);
        expect(await ids({ state: 'revoked' })).toEqual([]);
        expect(await ids({ limit: 2 })).toEqual(['ses_1', 'ses_2']);
      });

      it('counts sessions by state, every state present', async () => {
        expect(await store.sessions.countByState()).toEqual({ active: 0, suspended: 0, closed: 0, revoked: 0 });
        await create({ sessionId: 'ses_1', taskId: 't1' });
        await create({ sessionId: 'ses_2', taskId: 't2' });
        await create({ sessionId: 'ses_3', taskId: 't3', state: 'suspended' });
        await store.sessions.transition('ses_1', { from: ['active'], to: 'revoked', reason: 'admin', now: T0 });
        expect(await store.sessions.countByState()).toEqual({ active: 1, suspended: 1, closed: 0, revoked: 1 });
      });
    });

    describe('sessions.resume (compare-and-set on the epoch)', () => {
      it('bumps the epoch by exactly one and sets state, scope, lease and resumes', async () => {
        await create({ state: 'suspended', stateReason: 'lease_expired', metadata: { m: 1 } });
        const result = await store.sessions.resume('ses_a', resumeAt(1));
        const changed = { epoch: 2, state: 'active', stateReason: null, scope: ['billing'], resumes: 1 } as const;
        const expected = session({ ...changed, updatedAt: T0 + 1000, leaseExpiresAt: T0 + 1000 + LEASE, metadata: { m: 1 } });
        expect(result).toEqual({ ok: true, session: expected });
        expect(await store.sessions.get('ses_a')).toEqual(expected);
        expect((await store.sessions.resume('ses_a', resumeAt(2))).ok).toBe(true);
        expect((await store.sessions.get('ses_a'))!.epoch).toBe(3);
      });

      it('refuses a wrong expectedEpoch and reports the current record (null when unknown)', async () => {
        const created = await create();
        expect(await store.sessions.resume('ses_a', resumeAt(2))).toEqual({ ok: false, current: created });
        expect(await store.sessions.resume('ses_a', resumeAt(0))).toEqual({ ok: false, current: created });
        expect(await store.sessions.get('ses_a')).toEqual(created);
        expect(await store.sessions.resume('ses_missing', resumeAt(1))).toEqual({ ok: false, current: null });
      });

      it.each(['closed', 'revoked'] as const)('refuses to resume a %s session', async (to) => {
        await create();
        const final = await store.sessions.transition('ses_a', { from: ['active'], to, reason: 'x', now: T0 });
        expect(await store.sessions.resume('ses_a', resumeAt(1))).toEqual({ ok: false, current: final.ok && final.session });
      });

      it('refuses once resumes has reached maxResumes', async () => {
        const created = await create({ resumes: 3 });
        expect(await store.sessions.resume('ses_a', resumeAt(1, { maxResumes: 3 }))).toEqual({ ok: false, current: created });
        expect((await store.sessions.resume('ses_a', resumeAt(1, { maxResumes: 4 }))).ok).toBe(true);
      });

      it('lets exactly one of several concurrent resumes with the same expectedEpoch succeed', async () => {
        await create();
        const results = await Promise.all(Array.from({ length: 8 }, () => store.sessions.resume('ses_a', resumeAt(1))));
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.current?.epoch === 2)).toBe(true);
        expect((await store.sessions.get('ses_a'))!).toMatchObject({ epoch: 2, resumes: 1 });
      });

      if (persistent) it('lets exactly one resume win when two Store instances race on the same state', async () => {
        await create();
        const other = await peer();
        const racers = [store, other, store, other, other, store];
        const results = await Promise.all(racers.map((s) => s.sessions.resume('ses_a', resumeAt(1))));
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        expect(await other.sessions.get('ses_a')).toMatchObject({ epoch: 2, resumes: 1 });
      });
    });

    describe('sessions.transition, renewLease and the sweeps', () => {
      it('changes state only from an allowed state', async () => {
        await create();
        const refused = await store.sessions.transition('ses_a', { from: ['suspended'], to: 'closed', reason: 'x', now: T0 + 5 });
        expect(refused).toEqual({ ok: false, current: session() });
        const done = await store.sessions.transition('ses_a', { from: ['active', 'suspended'], to: 'suspended', reason: 'asked', now: T0 + 5 });
        expect(done).toEqual({ ok: true, session: session({ state: 'suspended', stateReason: 'asked', updatedAt: T0 + 5 }) });
        expect(await store.sessions.transition('ses_a', { from: [], to: 'closed', reason: null, now: T0 })).toMatchObject({ ok: false });
        const missing = await store.sessions.transition('ses_missing', { from: ['active'], to: 'closed', reason: null, now: T0 });
        expect(missing).toEqual({ ok: false, current: null });
      });

      it('refuses to reopen a final session while the agent has another open one for the task', async () => {
        await create();
        await store.sessions.transition('ses_a', { from: ['active'], to: 'closed', reason: null, now: T0 });
        await create({ sessionId: 'ses_b' });
        const reopened = await store.sessions.transition('ses_a', { from: ['closed'], to: 'suspended', reason: null, now: T0 });
        expect(reopened).toMatchObject({ ok: false, current: { state: 'closed' } });
      });

      it('renews the lease only while active at the given epoch', async () => {
        await create();
        expect(await store.sessions.renewLease('ses_a', 1, T0 + 2 * LEASE, T0 + 10)).toBe(true);
        expect(await store.sessions.get('ses_a')).toMatchObject({ leaseExpiresAt: T0 + 2 * LEASE, updatedAt: T0 + 10 });
        expect(await store.sessions.renewLease('ses_a', 2, T0 + 3 * LEASE, T0 + 20)).toBe(false);
        await store.sessions.resume('ses_a', resumeAt(1));
        expect(await store.sessions.renewLease('ses_a', 1, T0 + 3 * LEASE, T0 + 20)).toBe(false);
        await store.sessions.transition('ses_a', { from: ['active'], to: 'suspended', reason: null, now: T0 });
        expect(await store.sessions.renewLease('ses_a', 2, T0 + 3 * LEASE, T0 + 20)).toBe(false);
        expect(await store.sessions.renewLease('ses_missing', 1, T0 + 3 * LEASE, T0 + 20)).toBe(false);
        expect((await store.sessions.get('ses_a'))!.leaseExpiresAt).toBe(T0 + 1000 + LEASE);
      });

      it('suspends only active sessions whose lease is at or before now, with reason lease_expired', async () => {
        const now = T0 + LEASE;
        await create({ sessionId: 'ses_due', taskId: 't1', leaseExpiresAt: now });
        await create({ sessionId: 'ses_past', taskId: 't2', leaseExpiresAt: now - 1 });
        await create({ sessionId: 'ses_live', taskId: 't3', leaseExpiresAt: now + 1 });
        await create({ sessionId: 'ses_susp', taskId: 't4', leaseExpiresAt: 0, state: 'suspended', stateReason: 'asked' });
        const suspended = await store.sessions.suspendExpiredLeases(now);
        expect(suspended.map((s) => s.sessionId).sort()).toEqual(['ses_due', 'ses_past']);
        for (const s of suspended) expect(s).toMatchObject({ state: 'suspended', stateReason: 'lease_expired', updatedAt: now });
        expect(await store.sessions.get('ses_due')).toEqual(suspended.find((s) => s.sessionId === 'ses_due'));
        expect(await store.sessions.get('ses_live')).toMatchObject({ state: 'active' });
        expect(await store.sessions.get('ses_susp')).toMatchObject({ stateReason: 'asked' });
        expect(await store.sessions.suspendExpiredLeases(now)).toEqual([]);
      });

      it('closes every non-final session created at or before the cutoff, with reason max_age', async () => {
        await create({ sessionId: 'ses_old', taskId: 't1', createdAt: T0 - 10 });
        await create({ sessionId: 'ses_edge', taskId: 't2', createdAt: T0, state: 'suspended' });
        await create({ sessionId: 'ses_new', taskId: 't3', createdAt: T0 + 1 });
        await create({ sessionId: 'ses_gone', taskId: 't4', createdAt: T0 - 10, state: 'revoked', stateReason: 'admin' });
        const closed = await store.sessions.closeAged(T0, T0 + 99);
        expect(closed.map((s) => s.sessionId).sort()).toEqual(['ses_edge', 'ses_old']);
        for (const s of closed) expect(s).toMatchObject({ state: 'closed', stateReason: 'max_age', updatedAt: T0 + 99 });
        expect(await store.sessions.get('ses_new')).toMatchObject({ state: 'active' });
        expect(await store.sessions.get('ses_gone')).toMatchObject({ state: 'revoked', stateReason: 'admin' });
        expect(await store.sessions.closeAged(T0, T0 + 100)).toEqual([]);
      });
    });

    describe('checkpoints', () => {
      it('numbers checkpoints 1, 2, 3 and returns the latest', async () => {
        await create();
        expect(await store.sessions.latestCheckpoint('ses_a')).toBeNull();
        const seqs = [];
        for (const id of ['c1', 'c2', 'c3']) seqs.push((await store.sessions.appendCheckpoint(checkpoint(1, id)))!.seq);
        expect(seqs).toEqual([1, 2, 3]);
        expect(await store.sessions.latestCheckpoint('ses_a')).toEqual({ ...checkpoint(1, 'c3'), seq: 3 });
        await store.sessions.resume('ses_a', resumeAt(1));
        const bare = checkpoint(2, 'c4', { label: null, state: null });
        expect(await store.sessions.appendCheckpoint(bare)).toEqual({ ...bare, seq: 4 });
      });

      it('refuses (null) a checkpoint from a stale epoch, a non-active or an unknown session', async () => {
        await create();
        await store.sessions.resume('ses_a', resumeAt(1));
        expect(await store.sessions.appendCheckpoint(checkpoint(1, 'stale'))).toBeNull();
        await store.sessions.transition('ses_a', { from: ['active'], to: 'suspended', reason: null, now: T0 });
        expect(await store.sessions.appendCheckpoint(checkpoint(2, 'suspended'))).toBeNull();
        expect(await store.sessions.appendCheckpoint(checkpoint(1, 'nobody', { sessionId: 'ses_missing' }))).toBeNull();
        expect(await store.sessions.latestCheckpoint('ses_a')).toBeNull();
      });
    });

    describe('assertionIds.use', () => {
      it('answers true on first use and false on every later use until expiry', async () => {
        expect(await store.assertionIds.use('iss|jti-1', T0 + 300_000, T0)).toBe(true);
        expect(await store.assertionIds.use('iss|jti-1', T0 + 300_000, T0 + 1)).toBe(false);
        expect(await store.assertionIds.use('iss|jti-2', T0 + 300_000, T0 + 1)).toBe(true);
        // Well past the purge cadence but before expiry: still remembered.
        expect(await store.assertionIds.use('iss|jti-1', T0 + 300_000, T0 + 200_000)).toBe(false);
        expect(await store.assertionIds.use('iss|jti-1', T0 + 300_000, T0 + 300_000)).toBe(false);
      });

      it('may forget an id once its expiry has passed', async () => {
        expect(await store.assertionIds.use('k', T0 + 10, T0)).toBe(true);
        expect(await store.assertionIds.use('other', T0 + 100_000, T0 + 90_000)).toBe(true);
        expect(await store.assertionIds.use('k', T0 + 200_000, T0 + 100_000)).toBe(true);
        expect(await store.assertionIds.use('k', T0 + 200_000, T0 + 100_001)).toBe(false);
      });
    });

    describe('lifecycle', () => {
      it('answers ping, and fails with store_unavailable once closed', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
        await store.close();
        await expect(store.ping()).rejects.toSatisfy((e) => e instanceof GatewayError && e.code === 'store_unavailable');
        await expect(store.sessions.get('ses_a')).rejects.toMatchObject({ code: 'store_unavailable' });
      });

      if (persistent) it('keeps sessions, checkpoints and used assertion ids across close and reopen', async () => {
        await create({ metadata: { k: [1, 2] } });
        await store.sessions.resume('ses_a', resumeAt(1));
        await store.sessions.appendCheckpoint(checkpoint(2, 'c1'));
        expect(await store.assertionIds.use('jti', T0 + 300_000, T0)).toBe(true);
        const before = await store.sessions.get('ses_a');
        await store.close();
        const reopened = await peer();
        expect(await reopened.sessions.get('ses_a')).toEqual(before);
        expect(await reopened.sessions.latestCheckpoint('ses_a')).toMatchObject({ checkpointId: 'c1', seq: 1, epoch: 2 });
        expect(await reopened.assertionIds.use('jti', T0 + 300_000, T0 + 1)).toBe(false);
        expect(await reopened.sessions.create(session({ sessionId: 'ses_b' }))).toEqual({ ok: false, existingSessionId: 'ses_a' });
      });
    });
  });
}
