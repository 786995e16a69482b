// The approval flow (src/approvals/approval-flow.ts) at its edges, written for the survivors of a mutation
// run (docs/testing.md): the exact refusals, what a consumption records, the poll intervals of a hold, the
// instant an approval or a denial lapses, which approvals are re-validated and by whom, the decision wakeups,
// and abortableSleep on fake timers. The approvals live in a MemoryApprovals fenced by a fixed session, so
// these tests need nothing else of a store.
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { abortableSleep, resolveApproval, type ApprovalCall, type ApprovalStep } from '../../src/approvals/approval-flow.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { loadPolicyDir } from '../../src/policy/load.js';
import type { PolicySnapshot } from '../../src/policy/types.js';
import { MemoryApprovals } from '../../src/store/memory/memory-approvals.js';
import type { SessionRecord, Store } from '../../src/store/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { refundsPolicy, writePolicyDir } from '../fixtures/policy/write-policy-dir.js';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
const ISO_T0_PLUS_1H = '2026-11-24T13:00:00.000Z';

const load = (yaml: string): Promise<PolicySnapshot> => loadPolicyDir(writePolicyDir({ 'main.yaml': yaml }), { now: T0, toolNames: new Set(['billing']) });

const session: SessionRecord = {
  sessionId: 'ses_a', taskId: 't', agentId: 'bot', state: 'active', stateReason: null, epoch: 4,
  scope: ['billing'], originalScope: ['billing'], createdAt: T0, updatedAt: T0, leaseExpiresAt: T0 + 60_000, resumes: 3, metadata: null,
};
const FACTS = { agentId: 'bot', roles: ['billing-agent'], tool: 'billing', method: 'POST', path: '/refunds' };

describe('resolveApproval: edges', () => {
  let approvals: MemoryApprovals;
  let clock: ManualClock;
  let policy: PolicySnapshot;
  let steps: ApprovalStep[];
  let slept: number[];
  let duringSleep: (n: number) => Promise<void> | void;

  const env = (pollMs = 100) => ({
    store: { approvals } as unknown as Store,
    clock,
    policy: { current: () => policy },
    pollMs,
    sleep: async (ms: number) => {
      slept.push(ms);
      clock.advance(ms);
      await duringSleep(slept.length);
    },
  });
  const call = (over: Partial<ApprovalCall> = {}): ApprovalCall => ({
    session,
    rule: policy.evaluate(FACTS).rule!,
    facts: FACTS,
    action: { tool: 'billing', method: 'POST', path: '/refunds', query: '', mcpTool: null },
    digest: 'd'.repeat(64),
    body: Buffer.from('{"amount":5}'),
    bodySha256: 'b'.repeat(64),
    requestId: 'req_7',
    emit: (step) => steps.push(step),
    ...over,
  });
  const rejection = async (promise: Promise<unknown>): Promise<GatewayError> => {
    const err = await promise.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  };
  const decide = async (state: 'approved' | 'denied', by = 'pat'): Promise<string> => {
    const [pending] = await approvals.list({ state: 'pending' });
    const decided = await approvals.decide(pending!.approvalId, { state, decidedBy: by, comment: 'c', now: clock.now() });
    if (!decided.ok) throw new Error('fixture: decision refused');
    return pending!.approvalId;
  };

  beforeEach(async () => {
    approvals = new MemoryApprovals((operation) => Promise.resolve().then(operation), (id) => (id === session.sessionId ? session : undefined));
    clock = new ManualClock(T0);
    policy = await load(refundsPolicy('0s'));
    steps = [];
    slept = [];
    duringSleep = () => {};
  });

  it('refuses to run for a rule that does not require approval (a caller bug)', async () => {
    const allow = await load(refundsPolicy('0s', 'allow'));
    const rule = allow.evaluate(FACTS).rule!;
    await expect(resolveApproval(env(), call({ rule }))).rejects.toThrow(new Error('rule refunds is not a require_approval rule'));
    expect(await approvals.list({})).toEqual([]);
  });

  it('answers 403 approval_required naming the approval, the rule and its expiry', async () => {
    const err = await rejection(resolveApproval(env(), call()));
    const [approval] = await approvals.list({});
    expect({ code: err.code, status: err.status, fields: err.fields, detail: err.message }).toEqual({
      code: 'approval_required',
      status: 403,
      fields: { approval_id: approval!.approvalId, rule_id: 'refunds', expires_at: ISO_T0_PLUS_1H },
      detail: `Rule refunds requires a human approval for this exact call; retry once a person approved ${approval!.approvalId}`,
    });
    expect(approval).toMatchObject({ sessionId: 'ses_a', agentId: 'bot', requestedEpoch: 4, requestId: 'req_7', approverRoles: ['approver'], bodySha256: 'b'.repeat(64), ttlMs: 3_600_000 });
  });

  it('stores no preview and size 0 for a call without a body', async () => {
    await rejection(resolveApproval(env(), call({ body: null, bodySha256: null })));
    expect((await approvals.list({}))[0]).toMatchObject({ bodyPreview: null, bodySize: 0, bodySha256: null });
  });

  it('answers approval_denied without the person or comment, until the denial lapses at exactly its expiry', async () => {
    await rejection(resolveApproval(env(), call()));
    const id = await decide('denied');
    const err = await rejection(resolveApproval(env(), call()));
    expect({ code: err.code, status: err.status, fields: err.fields, detail: err.message }).toEqual({
      code: 'approval_denied',
      status: 403,
      fields: { approval_id: id, rule_id: 'refunds', denied_until: ISO_T0_PLUS_1H },
      detail: `A person denied this exact call under rule refunds; the denial holds until ${ISO_T0_PLUS_1H}`,
    });
    clock.advance(3_600_000 - 1);
    expect((await rejection(resolveApproval(env(), call()))).code).toBe('approval_denied');
    clock.advance(1);
    const after = await rejection(resolveApproval(env(), call()));
    expect(after.code).toBe('approval_required');
    expect(after.fields.approval_id).not.toBe(id);
  });

  it('consumes an approval one millisecond before its expiry, recording the epoch, request and time', async () => {
    await rejection(resolveApproval(env(), call()));
    const id = await decide('approved');
    clock.advance(3_600_000 - 1);
    const outcome = await resolveApproval(env(), call({ requestId: 'req_8' }));
    expect(outcome.kind).toBe('consumed');
    expect(await approvals.get(id)).toMatchObject({ state: 'consumed', consumedEpoch: 4, consumedRequestId: 'req_8', consumedAt: T0 + 3_600_000 - 1 });
    expect(steps.map((s) => [s.event, s.approval.approvalId])).toEqual([['approval.request', id], ['approval.consume', id]]);
  });

  it('expires an approval decided by someone no longer in the policy, and asks again', async () => {
    await rejection(resolveApproval(env(), call()));
    const [pending] = await approvals.list({ state: 'pending' });
    await approvals.decide(pending!.approvalId, { state: 'approved', decidedBy: 'former-employee', comment: null, now: clock.now() });
    steps = [];
    const err = await rejection(resolveApproval(env(), call()));
    expect(err.fields.approval_id).not.toBe(pending!.approvalId);
    expect(await approvals.get(pending!.approvalId)).toMatchObject({ state: 'expired', expireReason: 'approver_revoked' });
    expect(steps.map((s) => s.event)).toEqual(['approval.expire', 'approval.request']);
  });

  it('refuses with agent_disabled when the current policy no longer has the agent enabled', async () => {
    await rejection(resolveApproval(env(), call()));
    const id = await decide('approved');
    policy = await load(refundsPolicy('0s').replace('  bot:\n', '  bot:\n    enabled: false\n'));
    const err = await rejection(resolveApproval(env(), call({ rule: (await load(refundsPolicy('0s'))).evaluate(FACTS).rule! })));
    expect({ code: err.code, bearer: err.bearer }).toEqual({ code: 'agent_disabled', bearer: true });
    expect((await approvals.get(id))!.state).toBe('approved');
  });

  it('polls every pollMs and then only the time left, stopping at exactly the hold', async () => {
    policy = await load(refundsPolicy('250ms'));
    expect((await rejection(resolveApproval(env(), call()))).code).toBe('approval_required');
    expect(slept).toEqual([100, 100, 50]);
    expect(clock.now()).toBe(T0 + 250);
  });

  it('stops polling once the approval is no longer pending, and consumes it in the same request', async () => {
    policy = await load(refundsPolicy('1s'));
    duringSleep = async (n) => {
      if (n === 2) await decide('approved');
    };
    const beforeWaits: number[] = [];
    const outcome = await resolveApproval(env(), call({ beforeWait: () => void beforeWaits.push(slept.length) }));
    expect(outcome.kind).toBe('consumed');
    expect(slept).toEqual([100, 100]);
    expect(beforeWaits).toEqual([0]);
  });

  it('refuses a rule carrying an approval block whose effect is not require_approval (a caller bug)', async () => {
    const rule = { ...policy.evaluate(FACTS).rule!, effect: 'allow' as const };
    await expect(resolveApproval(env(), call({ rule }))).rejects.toThrow(new Error('rule refunds is not a require_approval rule'));
  });

  it('keeps a pending approval pending under a reloaded policy: only an approved one is re-validated', async () => {
    const first = await rejection(resolveApproval(env(), call()));
    expect(first.fields.approval_id).toMatch(/^apr_[A-Za-z0-9_-]{24}$/);
    policy = await load(refundsPolicy('0s', 'allow'));
    const again = await rejection(resolveApproval(env(), call({ rule: (await load(refundsPolicy('0s'))).evaluate(FACTS).rule! })));
    expect({ code: again.code, id: again.fields.approval_id }).toEqual({ code: 'approval_required', id: first.fields.approval_id });
    expect((await approvals.list({})).map((a) => a.state)).toEqual(['pending']);
  });

  it('accepts an approver who holds other roles as well, whatever their order', async () => {
    policy = await load(refundsPolicy('0s').replace('roles: [approver]', 'roles: [auditor, approver]'));
    await rejection(resolveApproval(env(), call()));
    const id = await decide('approved');
    expect(await resolveApproval(env(), call())).toMatchObject({ kind: 'consumed', approval: { approvalId: id } });
  });

  it('waits through the decision wakeups, for this approval, when no sleep is injected', async () => {
    policy = await load(refundsPolicy('250ms'));
    const waits: [string, number][] = [];
    const wakeups = {
      sleep: (approvalId: string, ms: number) => {
        waits.push([approvalId, ms]);
        clock.advance(ms);
        return Promise.resolve();
      },
    };
    const flow = { store: { approvals } as unknown as Store, clock, policy: { current: () => policy }, wakeups };
    const err = await rejection(resolveApproval(flow, call()));
    const id = err.fields.approval_id as string;
    expect(waits).toEqual([[id, 100], [id, 100], [id, 50]]);
  });
});

describe('abortableSleep', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves after exactly ms, not a millisecond before', async () => {
    let done = false;
    void abortableSleep(50, undefined).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(49);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
  });

  it('resolves at once for a signal already aborted, and on abort while waiting, leaving no timer', async () => {
    await expect(abortableSleep(60_000, AbortSignal.abort())).resolves.toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
    const controller = new AbortController();
    let done = false;
    void abortableSleep(60_000, controller.signal).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(done).toBe(false);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('takes its abort listener off the signal when the time is up', async () => {
    const controller = new AbortController();
    const sleeping = abortableSleep(50, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(50);
    await sleeping;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
