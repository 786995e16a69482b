// Every session change made by this process goes through SessionLifecycle.changed(): listeners hear of it
// at once (the live-call registry fences on it, SPEC §8), and a session that became final has its open
// approvals expired and audited (SPEC §9.4) — also for the max_age and lease sweeps.
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent, AuditLog } from '../../src/audit/types.js';
import type { PolicySnapshot } from '../../src/policy/types.js';
import { SessionLifecycle } from '../../src/sessions/lifecycle.js';
import type { NewApproval } from '../../src/store/approval-types.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import type { SessionRecord } from '../../src/store/types.js';
import { ManualClock } from '../../src/util/clock.js';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
const policy = { sessions: { maxAgeMs: 60_000, leaseTtlMs: 10_000 } } as unknown as PolicySnapshot;

const approval = (id: string, sessionId: string): NewApproval => ({
  approvalId: id, sessionId, agentId: 'bot', digest: id.padEnd(64, '0'), ruleId: 'r', approverRoles: ['a'],
  action: { tool: 'billing', method: 'POST', path: '/x', query: '', mcpTool: null }, bodyPreview: null, bodySize: 0,
  bodySha256: null, ttlMs: 3_600_000, requestedEpoch: 1, requestId: 'req', createdAt: T0,
});

describe('session changes (SPEC §8, §9.4)', () => {
  let store: MemoryStore;
  let clock: ManualClock;
  let events: AuditEvent[];
  let heard: string[];
  let lifecycle: SessionLifecycle;

  const create = async (sessionId: string, createdAt: number): Promise<void> => {
    const record: SessionRecord = {
      sessionId, taskId: sessionId, agentId: 'bot', state: 'active', stateReason: null, epoch: 1, scope: ['billing'],
      originalScope: ['billing'], createdAt, updatedAt: createdAt, leaseExpiresAt: createdAt + 10_000, resumes: 0, metadata: null,
    };
    expect((await store.sessions.create(record)).ok).toBe(true);
    await store.approvals.findOrCreatePending(approval(`apr_${sessionId}`, sessionId));
  };

  beforeEach(() => {
    store = new MemoryStore();
    clock = new ManualClock(T0);
    events = [];
    heard = [];
    const audit: AuditLog = { write: (e) => void events.push(e), close: () => {} };
    lifecycle = new SessionLifecycle(store, clock, audit);
    lifecycle.onChange((s) => heard.push(`${s.sessionId}:${s.state}`));
  });

  it('tells listeners of the max_age close and the lease expiry found by the sweep, and expires the closed session’s approvals', async () => {
    await create('ses_old', T0 - 55_000);
    await create('ses_idle', T0);
    clock.advance(10_000); // ses_old is past max_age; ses_idle's lease has run out
    expect(await lifecycle.sweep(policy)).toBe(2);
    expect(heard.sort()).toEqual(['ses_idle:suspended', 'ses_old:closed']);
    expect(await store.approvals.get('apr_ses_old')).toMatchObject({ state: 'expired', expireReason: 'session_closed' });
    expect((await store.approvals.get('apr_ses_idle'))!.state).toBe('pending');
    const expired = events.filter((e) => e.event === 'approval.expire');
    expect(expired.map((e) => [e.sessionId, e.extra?.reason])).toEqual([['ses_old', 'session_closed']]);
  });

  it('does the same when a request finds the session past max_age', async () => {
    await create('ses_a', T0);
    clock.advance(60_000);
    const found = (await store.sessions.get('ses_a'))!;
    expect((await lifecycle.enforceTimeLimits(found, policy, 'req_9')).state).toBe('closed');
    expect(heard).toEqual(['ses_a:closed']);
    expect(events.find((e) => e.event === 'approval.expire')).toMatchObject({ requestId: 'req_9', sessionId: 'ses_a' });
  });
});
