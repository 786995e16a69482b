// The approval part of the Store contract (SPEC §9, DESIGN rules 7 and 10): every backend runs exactly these.
import { describe, expect, it } from 'vitest';
import type { NewApproval } from '../../src/store/approval-types.js';
import type { Store } from '../../src/store/types.js';
import { session, type ContractBackend } from './store-contract.js';
import { storePerTest } from './store-fixtures.js';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
const TTL = 60_000;

function pending(over: Partial<NewApproval> = {}): NewApproval {
  return {
    approvalId: 'apr_1',
    sessionId: 'ses_a',
    agentId: 'agent-1',
    digest: 'd'.repeat(64),
    ruleId: 'refunds',
    approverRoles: ['finance-approver'],
    action: { tool: 'billing', method: 'POST', path: '/refunds', query: '?dry=0', mcpTool: null },
    bodyPreview: new Uint8Array(Buffer.from('{"amount":5,"note":"ünïcode ✓"}')),
    bodySize: 33,
    bodySha256: 'b'.repeat(64),
    ttlMs: TTL,
    requestedEpoch: 1,
    requestId: 'req_1',
    createdAt: T0,
    ...over,
  };
}

const approve = (now: number, by = 'alice') => ({ state: 'approved' as const, decidedBy: by, comment: 'ok', now });

export function describeApprovalContract(backend: ContractBackend): void {
  describe(`Store contract: ${backend.name} approvals`, () => {
    let store: Store;
    const { extra } = storePerTest(backend, async (opened) => {
      store = opened;
      for (const id of ['ses_a', 'ses_b']) {
        const created = await store.sessions.create(session({ sessionId: id, taskId: `task-${id}` }));
        if (!created.ok) throw new Error('fixture session not created');
      }
    });

    it('creates a pending approval with expiry created + ttl, and reads it back intact', async () => {
      const result = await store.approvals.findOrCreatePending(pending());
      expect(result.created).toBe(true);
      expect(result.expired).toEqual([]);
      const expected = {
        ...pending(),
        state: 'pending',
        expiresAt: T0 + TTL,
        updatedAt: T0,
        decidedBy: null,
        decidedAt: null,
        comment: null,
        consumedAt: null,
        consumedEpoch: null,
        consumedRequestId: null,
        expireReason: null,
      };
      expect(result.approval).toEqual(expected);
      expect(await store.approvals.get('apr_1')).toEqual(expected);
      expect(Buffer.from((await store.approvals.get('apr_1'))!.bodyPreview!).toString()).toBe('{"amount":5,"note":"ünïcode ✓"}');
      expect(await store.approvals.get('apr_missing')).toBeNull();
    });

    it('reuses the pending approval for the same session and digest, and keeps others apart', async () => {
      await store.approvals.findOrCreatePending(pending());
      const again = await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_2', createdAt: T0 + 10 }));
      expect(again).toMatchObject({ created: false, approval: { approvalId: 'apr_1', state: 'pending' } });
      const otherDigest = await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_3', digest: 'e'.repeat(64) }));
      const otherSession = await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_4', sessionId: 'ses_b' }));
      expect([otherDigest.created, otherSession.created]).toEqual([true, true]);
      expect(await store.approvals.get('apr_2')).toBeNull();
    });

    it('lets exactly one of many concurrent find-or-create calls insert', async () => {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.approvals.findOrCreatePending(pending({ approvalId: `apr_c${i}` }))),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.approval.approvalId)).size).toBe(1);
    });

    it('expires a lapsed pending approval on find-or-create and inserts a new one', async () => {
      await store.approvals.findOrCreatePending(pending());
      const later = await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_2', createdAt: T0 + TTL }));
      expect(later.created).toBe(true);
      expect(later.expired).toMatchObject([{ approvalId: 'apr_1', state: 'expired', expireReason: 'ttl', updatedAt: T0 + TTL }]);
      expect((await store.approvals.get('apr_1'))!.state).toBe('expired');
    });

    it('approves a pending approval: who, when, comment, and a new expiry of decision + ttl', async () => {
      await store.approvals.findOrCreatePending(pending());
      const result = await store.approvals.decide('apr_1', approve(T0 + 1000));
      expect(result).toMatchObject({
        ok: true,
        approval: { state: 'approved', decidedBy: 'alice', decidedAt: T0 + 1000, comment: 'ok', expiresAt: T0 + 1000 + TTL },
      });
    });

    it('refuses a second decision and a decision on a lapsed or unknown approval, reporting the current record', async () => {
      await store.approvals.findOrCreatePending(pending());
      await store.approvals.decide('apr_1', approve(T0 + 1));
      const twice = await store.approvals.decide('apr_1', { state: 'denied', decidedBy: 'bob', comment: null, now: T0 + 2 });
      expect(twice).toMatchObject({ ok: false, current: { state: 'approved', decidedBy: 'alice' } });
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_2', digest: 'e'.repeat(64) }));
      const lapsed = await store.approvals.decide('apr_2', approve(T0 + TTL));
      expect(lapsed).toMatchObject({ ok: false, current: { approvalId: 'apr_2', state: 'pending' } });
      expect(await store.approvals.decide('apr_missing', approve(T0))).toEqual({ ok: false, current: null });
    });

    it('lets exactly one of two concurrent decisions win', async () => {
      await store.approvals.findOrCreatePending(pending());
      const results = await Promise.all([
        store.approvals.decide('apr_1', approve(T0 + 1)),
        store.approvals.decide('apr_1', { state: 'denied', decidedBy: 'bob', comment: null, now: T0 + 1 }),
      ]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
    });

    it('consumes an approved approval exactly once, recording epoch and request', async () => {
      await store.approvals.findOrCreatePending(pending());
      expect(await store.approvals.consume('apr_1', { now: T0 + 1, epoch: 1, requestId: 'r' })).toBeNull(); // still pending
      await store.approvals.decide('apr_1', approve(T0 + 1));
      // Approvals belong to the session, not to an epoch: the resumed worker consumes it (SPEC §9.2).
      const resumed = await store.sessions.resume('ses_a', { expectedEpoch: 1, scope: ['billing'], now: T0 + 1, leaseExpiresAt: T0 + TTL, maxResumes: 10 });
      expect(resumed.ok).toBe(true);
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => store.approvals.consume('apr_1', { now: T0 + 2, epoch: 2, requestId: `req_${i}` })),
      );
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      expect(winners[0]).toMatchObject({ state: 'consumed', consumedAt: T0 + 2, consumedEpoch: 2 });
      expect(await store.approvals.consume('apr_1', { now: T0 + 3, epoch: 2, requestId: 'again' })).toBeNull();
    });

    it('never consumes for a session that is not active at the caller’s epoch (the fence is part of the write)', async () => {
      await store.approvals.findOrCreatePending(pending());
      await store.approvals.decide('apr_1', approve(T0 + 1));
      await store.sessions.resume('ses_a', { expectedEpoch: 1, scope: ['billing'], now: T0 + 1, leaseExpiresAt: T0 + TTL, maxResumes: 10 });
      expect(await store.approvals.consume('apr_1', { now: T0 + 2, epoch: 1, requestId: 'stale' })).toBeNull();
      await store.sessions.transition('ses_a', { from: ['active'], to: 'suspended', reason: 'requested', now: T0 + 2 });
      expect(await store.approvals.consume('apr_1', { now: T0 + 3, epoch: 2, requestId: 'suspended' })).toBeNull();
      expect((await store.approvals.get('apr_1'))!.state).toBe('approved');
      await store.sessions.resume('ses_a', { expectedEpoch: 2, scope: ['billing'], now: T0 + 4, leaseExpiresAt: T0 + TTL, maxResumes: 10 });
      expect(await store.approvals.consume('apr_1', { now: T0 + 5, epoch: 3, requestId: 'ok' })).toMatchObject({ state: 'consumed', consumedEpoch: 3 });
    });

    it('never consumes an approval at or after its expiry, nor a denied one', async () => {
      await store.approvals.findOrCreatePending(pending());
      await store.approvals.decide('apr_1', approve(T0));
      expect(await store.approvals.consume('apr_1', { now: T0 + TTL, epoch: 1, requestId: 'r' })).toBeNull();
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_2', digest: 'e'.repeat(64) }));
      await store.approvals.decide('apr_2', { state: 'denied', decidedBy: 'alice', comment: 'no', now: T0 });
      expect(await store.approvals.consume('apr_2', { now: T0 + 1, epoch: 1, requestId: 'r' })).toBeNull();
    });

    it('expires by ttl only once due, and by approver_revoked only an approved one', async () => {
      await store.approvals.findOrCreatePending(pending());
      expect(await store.approvals.expire('apr_1', T0 + TTL - 1, 'ttl')).toBeNull();
      expect(await store.approvals.expire('apr_1', T0 + 1, 'approver_revoked')).toBeNull(); // pending, not approved
      await store.approvals.decide('apr_1', approve(T0 + 1));
      expect(await store.approvals.expire('apr_1', T0 + 2, 'approver_revoked')).toMatchObject({ state: 'expired', expireReason: 'approver_revoked' });
      expect(await store.approvals.expire('apr_1', T0 + 10 * TTL, 'ttl')).toBeNull(); // already final
    });

    it('expires a session’s pending and approved approvals when it ends, leaving decided and other sessions’ alone', async () => {
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_1' }));
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_2', digest: 'e'.repeat(64) }));
      await store.approvals.decide('apr_2', approve(T0 + 1));
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_3', digest: 'f'.repeat(64) }));
      await store.approvals.decide('apr_3', { state: 'denied', decidedBy: 'alice', comment: null, now: T0 + 1 });
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_4', digest: 'c'.repeat(64) }));
      await store.approvals.decide('apr_4', approve(T0 + 1));
      await store.approvals.consume('apr_4', { now: T0 + 2, epoch: 1, requestId: 'r' });
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_5', sessionId: 'ses_b' }));
      const expired = await store.approvals.expireForSession('ses_a', T0 + 3, 'session_revoked');
      expect(expired.map((a) => [a.approvalId, a.state, a.expireReason, a.updatedAt]).sort()).toEqual([
        ['apr_1', 'expired', 'session_revoked', T0 + 3],
        ['apr_2', 'expired', 'session_revoked', T0 + 3],
      ]);
      expect((await store.approvals.get('apr_3'))!.state).toBe('denied');
      expect((await store.approvals.get('apr_4'))!.state).toBe('consumed');
      expect((await store.approvals.get('apr_5'))!.state).toBe('pending');
      expect(await store.approvals.consume('apr_2', { now: T0 + 4, epoch: 1, requestId: 'late' })).toBeNull();
      expect(await store.approvals.expireForSession('ses_a', T0 + 5, 'session_closed')).toEqual([]);
    });

    it('repairs at start: expires the open approvals of sessions that are already closed or revoked', async () => {
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_1' }));
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_2', digest: 'e'.repeat(64) }));
      await store.approvals.decide('apr_2', approve(T0 + 1));
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_3', sessionId: 'ses_b' }));
      expect(await store.approvals.expireOfEndedSessions(T0 + 2)).toEqual([]);
      await store.sessions.transition('ses_a', { from: ['active'], to: 'revoked', reason: 'x', now: T0 + 3 });
      const expired = await store.approvals.expireOfEndedSessions(T0 + 4);
      expect(expired.map((a) => [a.approvalId, a.expireReason, a.updatedAt]).sort()).toEqual([
        ['apr_1', 'session_revoked', T0 + 4],
        ['apr_2', 'session_revoked', T0 + 4],
      ]);
      await store.sessions.transition('ses_b', { from: ['active'], to: 'closed', reason: 'x', now: T0 + 5 });
      expect((await store.approvals.expireOfEndedSessions(T0 + 6)).map((a) => [a.approvalId, a.expireReason])).toEqual([['apr_3', 'session_closed']]);
      expect(await store.approvals.expireOfEndedSessions(T0 + 7)).toEqual([]);
    });

    it('lists for an action: pending, approved and denied newest first, never consumed or expired', async () => {
      const digest = 'd'.repeat(64);
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_1', createdAt: T0 }));
      await store.approvals.decide('apr_1', approve(T0 + 1));
      await store.approvals.consume('apr_1', { now: T0 + 2, epoch: 1, requestId: 'r' });
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_2', createdAt: T0 + 3 }));
      await store.approvals.decide('apr_2', { state: 'denied', decidedBy: 'alice', comment: null, now: T0 + 4 });
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_3', createdAt: T0 + 5 }));
      expect((await store.approvals.listForAction('ses_a', digest)).map((a) => [a.approvalId, a.state])).toEqual([
        ['apr_3', 'pending'],
        ['apr_2', 'denied'],
      ]);
      expect(await store.approvals.listForAction('ses_b', digest)).toEqual([]);
    });

    it('lists by state, session and rule ids, newest first, with a limit', async () => {
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_1', createdAt: T0 }));
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_2', createdAt: T0 + 1, digest: 'e'.repeat(64), ruleId: 'other' }));
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_3', createdAt: T0 + 2, sessionId: 'ses_b' }));
      await store.approvals.decide('apr_3', approve(T0 + 3));
      const ids = async (f: Parameters<Store['approvals']['list']>[0]) => (await store.approvals.list(f)).map((a) => a.approvalId);
      expect(await ids({})).toEqual(['apr_3', 'apr_2', 'apr_1']);
      expect(await ids({ state: 'pending' })).toEqual(['apr_2', 'apr_1']);
      expect(await ids({ sessionId: 'ses_a' })).toEqual(['apr_2', 'apr_1']);
      expect(await ids({ ruleIds: ['refunds'] })).toEqual(['apr_3', 'apr_1']);
      expect(await ids({ ruleIds: [] })).toEqual([]);
      expect(await ids({ state: 'approved', sessionId: 'ses_b', ruleIds: ['refunds', 'x'] })).toEqual(['apr_3']);
      expect(await ids({ limit: 1 })).toEqual(['apr_3']);
    });

    it('lists a session’s open approvals: pending and approved-unconsumed, unexpired, oldest first', async () => {
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_1', createdAt: T0 }));
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_2', createdAt: T0 + 1, digest: 'e'.repeat(64) }));
      await store.approvals.decide('apr_2', approve(T0 + 2));
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_3', createdAt: T0 + 3, digest: 'f'.repeat(64) }));
      await store.approvals.decide('apr_3', approve(T0 + 4));
      await store.approvals.consume('apr_3', { now: T0 + 5, epoch: 1, requestId: 'r' });
      expect((await store.approvals.listOpen('ses_a', T0 + 6)).map((a) => a.approvalId)).toEqual(['apr_1', 'apr_2']);
      // apr_1 lapses at T0 + TTL; apr_2 (approved at T0 + 2) at T0 + 2 + TTL.
      expect((await store.approvals.listOpen('ses_a', T0 + TTL)).map((a) => a.approvalId)).toEqual(['apr_2']);
      expect(await store.approvals.listOpen('ses_b', T0)).toEqual([]);
    });

    it('sweeps due pending and approved approvals to expired and counts by state', async () => {
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_1' }));
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_2', digest: 'e'.repeat(64) }));
      await store.approvals.decide('apr_2', approve(T0 + 10));
      await store.approvals.findOrCreatePending(pending({ approvalId: 'apr_3', digest: 'f'.repeat(64) }));
      await store.approvals.decide('apr_3', { state: 'denied', decidedBy: 'alice', comment: null, now: T0 });
      expect(await store.approvals.countByState()).toEqual({ pending: 1, approved: 1, denied: 1, consumed: 0, expired: 0 });
      expect((await store.approvals.expireDue(T0 + TTL)).map((a) => a.approvalId)).toEqual(['apr_1']);
      expect((await store.approvals.expireDue(T0 + 10 + TTL)).map((a) => a.approvalId)).toEqual(['apr_2']);
      // A denial is final; its expiry only bounds how long it refuses calls.
      expect(await store.approvals.countByState()).toEqual({ pending: 0, approved: 0, denied: 1, consumed: 0, expired: 2 });
    });

    it('fails with store_unavailable once closed', async () => {
      await store.close();
      await expect(store.approvals.get('apr_1')).rejects.toMatchObject({ code: 'store_unavailable' });
      await expect(store.approvals.findOrCreatePending(pending())).rejects.toMatchObject({ code: 'store_unavailable' });
    });

    if (backend.openPeer !== undefined) it('keeps approvals across close and reopen, and a peer cannot consume twice', async () => {
      await store.approvals.findOrCreatePending(pending());
      await store.approvals.decide('apr_1', approve(T0 + 1));
      const before = await store.approvals.get('apr_1');
      const other = await backend.openPeer!();
      extra.push(other);
      expect(await other.approvals.get('apr_1')).toEqual(before);
      const [mine, theirs] = await Promise.all([
        store.approvals.consume('apr_1', { now: T0 + 2, epoch: 1, requestId: 'a' }),
        other.approvals.consume('apr_1', { now: T0 + 2, epoch: 1, requestId: 'b' }),
      ]);
      expect([mine, theirs].filter((r) => r !== null)).toHaveLength(1);
      expect((await store.approvals.get('apr_1'))!.state).toBe('consumed');
    });
  });
}
