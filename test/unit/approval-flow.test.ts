// SPEC §9 data-plane flow with a frozen clock: the injected sleep moves time, so holds need no real waiting.
import { beforeEach, describe, expect, it } from 'vitest';
import { resolveApproval, type ApprovalCall, type ApprovalStep } from '../../src/approvals/approval-flow.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { loadPolicyDir } from '../../src/policy/load.js';
import type { PolicySnapshot } from '../../src/policy/types.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import type { SessionRecord } from '../../src/store/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { HEADER, SHA_A, writePolicyDir } from '../fixtures/policy/write-policy-dir.js';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

function policyYaml(opts: { hold?: string; effect?: string; approverRole?: string } = {}): string {
  return `${HEADER}agents:
  bot:
    roles: [billing-agent]
    credentials: [{ type: secret, sha256: "${SHA_A}" }]
people:
  pat:
    roles: [${opts.approverRole ?? 'approver'}]
    credentials: [{ type: secret, sha256: "${SHA_A}" }]
rules:
  - id: refunds
    effect: ${opts.effect ?? 'require_approval'}
    roles: [billing-agent]
    tools: [billing]
    methods: [POST]
    paths: ["/refunds"]
${(opts.effect ?? 'require_approval') === 'require_approval' ? `    approval: { approvers: [approver], ttl: 1h, hold: ${opts.hold ?? '0s'} }\n` : ''}`;
}

const load = (yaml: string): Promise<PolicySnapshot> => loadPolicyDir(writePolicyDir({ 'main.yaml': yaml }), { now: T0, toolNames: new Set(['billing']) });

describe('approval flow (SPEC §9)', () => {
  let store: MemoryStore;
  let clock: ManualClock;
  let policy: PolicySnapshot;
  let session: SessionRecord;
  let steps: ApprovalStep[];
  let sleeps: number;
  /** Runs during each injected sleep, after the clock moved. */
  let duringSleep: (n: number) => Promise<void> | void;

  const env = () => ({
    store,
    clock,
    policy: { current: () => policy },
    pollMs: 100,
    sleep: async (ms: number) => {
      sleeps++;
      clock.advance(ms);
      await duringSleep(sleeps);
    },
  });

  const call = async (over: Partial<ApprovalCall> = {}): Promise<ApprovalCall> => {
    const decision = policy.evaluate({ agentId: 'bot', roles: ['billing-agent'], tool: 'billing', method: 'POST', path: '/refunds' });
    return {
      session,
      rule: decision.rule!,
      facts: { agentId: 'bot', roles: ['billing-agent'], tool: 'billing', method: 'POST', path: '/refunds' },
      action: { tool: 'billing', method: 'POST', path: '/refunds', query: '', mcpTool: null },
      digest: 'd'.repeat(64),
      body: Buffer.from('{"amount":5}'),
      bodySha256: 'b'.repeat(64),
      requestId: 'req_1',
      emit: (step) => steps.push(step),
      ...over,
    };
  };

  const rejection = async (promise: Promise<unknown>): Promise<GatewayError> => {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  };

  beforeEach(async () => {
    store = new MemoryStore();
    clock = new ManualClock(T0);
    policy = await load(policyYaml());
    steps = [];
    sleeps = 0;
    duringSleep = () => {};
    const created = await store.sessions.create({
      sessionId: 'ses_a', taskId: 't', agentId: 'bot', state: 'active', stateReason: null, epoch: 1,
      scope: ['billing'], originalScope: ['billing'], createdAt: T0, updatedAt: T0, leaseExpiresAt: T0 + 60_000, resumes: 0, metadata: null,
    });
    if (!created.ok) throw new Error('fixture');
    session = created.session;
  });

  it('answers approval_required at once with hold 0s, creating one pending approval with a body preview', async () => {
    const err = await rejection(resolveApproval(env(), await call()));
    expect(err.code).toBe('approval_required');
    const approval = await store.approvals.get(err.fields.approval_id as string);
    expect(approval).toMatchObject({ state: 'pending', ruleId: 'refunds', expiresAt: T0 + 3_600_000, bodySize: 12 });
    expect(Buffer.from(approval!.bodyPreview!).toString()).toBe('{"amount":5}');
    expect(steps.map((s) => s.event)).toEqual(['approval.request']);
    expect(sleeps).toBe(0);
    // The same call again reuses the pending approval and audits no second request.
    const again = await rejection(resolveApproval(env(), await call()));
    expect(again.fields.approval_id).toBe(err.fields.approval_id);
    expect(steps).toHaveLength(1);
  });

  it('keeps only the first 8 KiB of the body as preview', async () => {
    const body = Buffer.alloc(20_000, 'x');
    const err = await rejection(resolveApproval(env(), await call({ body })));
    const approval = await store.approvals.get(err.fields.approval_id as string);
    expect(approval!.bodyPreview!.length).toBe(8192);
    expect(approval!.bodySize).toBe(20_000);
  });

  it('holds for exactly `hold`, polling, then answers approval_required', async () => {
    policy = await load(policyYaml({ hold: '30s' }));
    const err = await rejection(resolveApproval(env(), await call()));
    expect(err.code).toBe('approval_required');
    expect(clock.now()).toBe(T0 + 30_000);
    expect(sleeps).toBe(300);
  });

  it('lets the held request itself proceed when a person approves during the hold', async () => {
    policy = await load(policyYaml({ hold: '30s' }));
    duringSleep = async (n) => {
      if (n !== 5) return;
      const [pending] = await store.approvals.list({ state: 'pending' });
      await store.approvals.decide(pending!.approvalId, { state: 'approved', decidedBy: 'pat', comment: null, now: clock.now() });
    };
    const outcome = await resolveApproval(env(), await call());
    expect(outcome.kind).toBe('consumed');
    expect(clock.now()).toBe(T0 + 500);
    expect(steps.map((s) => s.event)).toEqual(['approval.request', 'approval.consume']);
  });

  it('answers approval_denied when a person denies during the hold', async () => {
    policy = await load(policyYaml({ hold: '30s' }));
    duringSleep = async (n) => {
      if (n !== 2) return;
      const [pending] = await store.approvals.list({ state: 'pending' });
      await store.approvals.decide(pending!.approvalId, { state: 'denied', decidedBy: 'pat', comment: 'no', now: clock.now() });
    };
    const err = await rejection(resolveApproval(env(), await call()));
    expect(err.code).toBe('approval_denied');
    expect(clock.now()).toBe(T0 + 200);
  });

  it('stops holding when the client goes away', async () => {
    policy = await load(policyYaml({ hold: '30s' }));
    const gone = new AbortController();
    duringSleep = (n) => {
      if (n === 3) gone.abort();
    };
    const err = await rejection(resolveApproval(env(), await call({ signal: gone.signal })));
    expect(err.code).toBe('approval_required');
    expect(sleeps).toBe(3);
  });

  describe('re-validation of an approved approval against the current policy', () => {
    const approved = async (): Promise<string> => {
      const err = await rejection(resolveApproval(env(), await call()));
      const id = err.fields.approval_id as string;
      await store.approvals.decide(id, { state: 'approved', decidedBy: 'pat', comment: null, now: clock.now() });
      steps = [];
      return id;
    };

    it('denies with policy_denied, without consuming, when the policy now denies', async () => {
      const id = await approved();
      const pinned = await call();
      policy = await load(policyYaml({ effect: 'deny' }));
      expect((await rejection(resolveApproval(env(), pinned))).code).toBe('policy_denied');
      expect((await store.approvals.get(id))!.state).toBe('approved');
    });

    it('proceeds without consuming when the policy now simply allows', async () => {
      const id = await approved();
      const pinned = await call();
      policy = await load(policyYaml({ effect: 'allow' }));
      expect(await resolveApproval(env(), pinned)).toEqual({ kind: 'not_required' });
      expect((await store.approvals.get(id))!.state).toBe('approved');
    });

    it('expires the approval and asks for a new one when the approver lost the role', async () => {
      const id = await approved();
      policy = await load(policyYaml({ approverRole: 'auditor' }));
      const err = await rejection(resolveApproval(env(), await call()));
      expect(err.code).toBe('approval_required');
      expect(err.fields.approval_id).not.toBe(id);
      expect(await store.approvals.get(id)).toMatchObject({ state: 'expired', expireReason: 'approver_revoked' });
      expect(steps.map((s) => s.event)).toEqual(['approval.expire', 'approval.request']);
    });

    it('never uses an approval after its ttl: it expires and a new pending one is created', async () => {
      const id = await approved();
      clock.advance(3_600_000);
      const err = await rejection(resolveApproval(env(), await call()));
      expect(err.fields.approval_id).not.toBe(id);
      expect(await store.approvals.get(id)).toMatchObject({ state: 'expired', expireReason: 'ttl' });
      expect(steps.map((s) => s.event)).toEqual(['approval.expire', 'approval.request']);
    });
  });

  describe('after a hold (SPEC §9.4)', () => {
    const pendingId = async (): Promise<string> => (await store.approvals.list({ state: 'pending' }))[0]!.approvalId;

    it('re-checks the call after the decision and before consuming: a refusal then leaves the approval approved', async () => {
      policy = await load(policyYaml({ hold: '30s' }));
      const rechecks: string[] = [];
      const approvalOf = async (): Promise<string> => (await store.approvals.list({}))[0]!.approvalId;
      duringSleep = async (n) => {
        if (n === 3) await store.approvals.decide(await pendingId(), { state: 'approved', decidedBy: 'pat', comment: null, now: clock.now() });
      };
      const recheck = async (): Promise<void> => {
        rechecks.push((await store.approvals.get(await approvalOf()))!.state);
        throw new GatewayError('session_revoked', { bearer: true });
      };
      const err = await rejection(resolveApproval(env(), await call({ recheck })));
      expect(err.code).toBe('session_revoked');
      expect(rechecks).toEqual(['approved']);
      expect((await store.approvals.get(await approvalOf()))!.state).toBe('approved');
      expect(steps.map((s) => s.event)).toEqual(['approval.request']);
    });

    it('ends the hold at once with the signal’s refusal, consuming nothing even when approved meanwhile', async () => {
      policy = await load(policyYaml({ hold: '30s' }));
      const fenced = new AbortController();
      let rechecked = 0;
      duringSleep = async (n) => {
        if (n !== 2) return;
        await store.approvals.decide(await pendingId(), { state: 'approved', decidedBy: 'pat', comment: null, now: clock.now() });
        fenced.abort(new GatewayError('session_stale_epoch', { bearer: true, fields: { resume_required: true } }));
      };
      const err = await rejection(resolveApproval(env(), await call({ signal: fenced.signal, recheck: async () => void rechecked++ })));
      expect(err.code).toBe('session_stale_epoch');
      expect(sleeps).toBe(2);
      expect(rechecked).toBe(0);
      expect((await store.approvals.list({}))[0]!.state).toBe('approved');
    });

    it('answers approval_required when the hold ends for another reason (client gone, shutdown)', async () => {
      policy = await load(policyYaml({ hold: '30s' }));
      const gone = new AbortController();
      duringSleep = (n) => {
        if (n === 2) gone.abort(new Error('shutdown'));
      };
      const err = await rejection(resolveApproval(env(), await call({ signal: gone.signal })));
      expect(err.code).toBe('approval_required');
    });
  });
});
