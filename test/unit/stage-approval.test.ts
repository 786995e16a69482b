// The approval stage as a unit (the gateway-level flow is in test/integration/approvals-*.ts): which calls it
// touches, exactly what it records for the tool.call record (auditExtra) and as lifecycle records, the console
// link and URL elicitation on approval_required. Held calls are in stage-approval-hold.test.ts.
import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/audit/envelope.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { approvalStage } from '../../src/pipeline/stage-approval.js';
import { rfc3339 } from '../../src/util/clock.js';
import {
  agentEnvelope, approve, BODY, DIGEST, evaluate, fakeLive, loadPolicy, onlyApproval, outcomeOf, refusal, requestRecord, setup, T0, type StageSetup,
} from '../helpers/approval-stage.js';

/** A fresh request of the same call on the same deps (a retry). */
function retry(s: StageSetup): StageSetup {
  const { urlElicitation: _set, ...ctx } = s.ctx;
  return { ...s, ctx: { ...ctx, auditExtra: {}, sideEvents: [] } };
}

describe('approvalStage', () => {
  it('touches nothing for a decision other than require_approval, or one without a rule', async () => {
    const allowed = await loadPolicy({ effect: 'allow' });
    for (const decision of [undefined, evaluate(allowed), { ...evaluate(await loadPolicy()), rule: null }]) {
      const live = fakeLive();
      const s = await setup({ ctx: { decision, live } });
      expect(await outcomeOf(approvalStage(s.deps, s.ctx))).toBe(undefined);
      expect([s.ctx.auditExtra, s.ctx.sideEvents, live.phases, s.res.listenerCount('close')]).toStrictEqual([{}, [], [], 0]);
      expect(await s.store.approvals.list({})).toStrictEqual([]);
    }
  });

  it('answers approval_required at once with hold 0s: the approval for this exact call, its id recorded', async () => {
    const live = fakeLive();
    const s = await setup({ ctx: { live } });
    const err = await refusal(s);
    const approval = await onlyApproval(s.store);
    expect([err.code, err.fields]).toStrictEqual(['approval_required', { approval_id: approval.approvalId, rule_id: 'refunds', expires_at: rfc3339(T0 + 3_600_000) }]);
    expect(approval).toMatchObject({
      state: 'pending', sessionId: 'ses_1', agentId: 'bot', digest: DIGEST, ruleId: 'refunds', bodySize: BODY.length, bodySha256: 'b'.repeat(64),
      requestedEpoch: 3, requestId: 'req_1', createdAt: T0,
    });
    expect(approval.action).toStrictEqual({ tool: 'billing', method: 'POST', path: '/refunds', query: '?order=7', mcpTool: null });
    expect(s.ctx.auditExtra).toStrictEqual({ action_digest: DIGEST, approval_id: approval.approvalId });
    // The record goes out with the tool.call record: nothing written early without a wait.
    expect(s.ctx.sideEvents).toStrictEqual([requestRecord(s, approval.approvalId)]);
    expect([s.written, s.notified.count, live.phases, s.res.listenerCount('close')]).toStrictEqual([[], 1, ['held', 'admitted'], 0]);
    expect([s.ctx.urlElicitation, 'approval_url' in err.fields]).toStrictEqual([undefined, false]);
  });

  it('passes an MCP tool name and a missing body hash on to the approval', async () => {
    const s = await setup({ ctx: { action: { method: 'POST', path: '/refunds', body: null, bodySha256: undefined, mcpTool: 'refund_order' } } });
    await refusal(s);
    const approval = await onlyApproval(s.store);
    expect([approval.action.mcpTool, approval.bodySha256, approval.bodySize]).toStrictEqual(['refund_order', null, 0]);
  });

  it('consumes an approval decided before the retry, recording its id and an approval.consume record', async () => {
    const s = await setup();
    const id = (await refusal(s)).fields.approval_id as string;
    expect((await approve(s, id)).ok).toBe(true);
    s.clock.advance(5_000);
    const again = retry(s);
    expect(await outcomeOf(approvalStage(again.deps, again.ctx))).toBe(undefined);
    expect(again.ctx.auditExtra).toStrictEqual({ action_digest: DIGEST, approval_id: id });
    expect(again.ctx.sideEvents).toStrictEqual([
      {
        ...requestRecord(s, id, T0 + 5_000), event: 'approval.consume', disposition: 'approved',
        extra: { approval_id: id, approval_state: 'consumed', rule_id: 'refunds', digest: DIGEST, agent_id: 'bot', decided_by: 'pat' },
      },
    ]);
    expect([s.notified.count, (await s.store.approvals.get(id))!.consumedRequestId]).toStrictEqual([2, 'req_1']);
  });

  it('lets the call through without consuming when the current policy no longer asks: approval_not_required', async () => {
    const s = await setup();
    const id = (await refusal(s)).fields.approval_id as string;
    await approve(s, id);
    s.current.policy = await loadPolicy({ effect: 'allow' });
    const again = retry(s);
    expect(await outcomeOf(approvalStage(again.deps, again.ctx))).toBe(undefined);
    expect([again.ctx.auditExtra, again.ctx.sideEvents]).toStrictEqual([{ action_digest: DIGEST, approval_not_required: true }, []]);
    expect((await s.store.approvals.get(id))!.state).toBe('approved');
  });

  it('records an expiry as the gateway acting (system actor, no token), then the new request', async () => {
    const s = await setup();
    const old = (await refusal(s)).fields.approval_id as string;
    s.clock.advance(3_600_000);
    const again = retry(s);
    const err = await refusal(again);
    const fresh = err.fields.approval_id as string;
    const { actor: _actor, tokenJti: _jti, ...system } = agentEnvelope(T0 + 3_600_000, s.ctx.policy.revision);
    expect(again.ctx.sideEvents).toStrictEqual([
      {
        event: 'approval.expire', ...system, actor: SYSTEM_ACTOR, status: 'ok', disposition: 'blocked',
        authorizations: [{ decision: 'require_approval', ruleId: 'refunds' }], tool: 'billing',
        extra: { approval_id: old, approval_state: 'expired', rule_id: 'refunds', digest: DIGEST, agent_id: 'bot', reason: 'ttl' },
      },
      requestRecord(s, fresh, T0 + 3_600_000),
    ]);
    expect(again.ctx.auditExtra).toStrictEqual({ action_digest: DIGEST, approval_id: fresh });
  });

  it('records the denied approval on approval_denied, with no console link', async () => {
    const s = await setup({ consoleUrl: () => 'https://gw.example/console', ctx: { mcpSession: { id: 'm1', boundHere: true }, mcpMessage: { id: 1, method: undefined } } });
    await s.store.mcpSessions.bind({ tool: 'billing', mcpSessionId: 'm1', sessionId: 'ses_1', createdAt: T0, urlElicitation: true });
    const id = (await refusal(s)).fields.approval_id as string;
    await approve(s, id, 'denied');
    const again = retry(s);
    const err = await refusal(again);
    expect([err.code, 'approval_url' in err.fields, again.ctx.urlElicitation]).toStrictEqual(['approval_denied', false, undefined]);
    expect(again.ctx.auditExtra).toStrictEqual({ action_digest: DIGEST, approval_id: id });
  });

  it('records no approval id for a refusal that names none, and passes other errors on untouched', async () => {
    const s = await setup({ consoleUrl: () => 'https://gw.example/console' });
    const fenced = new GatewayError('session_revoked', { bearer: true });
    s.store.approvals.listForAction = async () => {
      throw fenced;
    };
    expect([await outcomeOf(approvalStage(s.deps, s.ctx)), s.ctx.auditExtra]).toStrictEqual([fenced, { action_digest: DIGEST }]);
    const broken = new Error('store down');
    s.store.approvals.listForAction = async () => {
      throw broken;
    };
    const again = retry(s);
    expect([await outcomeOf(approvalStage(again.deps, again.ctx)), again.ctx.auditExtra]).toStrictEqual([broken, { action_digest: DIGEST }]);
  });
});

describe('approvalStage: the console link and URL elicitation on approval_required', () => {
  const CONSOLE = 'https://gw.example/console';
  const ODD_ID = 'apr/1 ü?#';

  /** A pending approval for this call under an id that needs encoding in a URL path (the stage reuses it). */
  async function pendingOddId(s: StageSetup): Promise<void> {
    await s.store.approvals.findOrCreatePending({
      approvalId: ODD_ID, sessionId: 'ses_1', agentId: 'bot', digest: DIGEST, ruleId: 'refunds', approverRoles: ['approver'],
      action: { tool: 'billing', method: 'POST', path: '/refunds', query: '?order=7', mcpTool: null },
      bodyPreview: null, bodySize: 0, bodySha256: null, ttlMs: 3_600_000, requestedEpoch: 3, requestId: 'req_0', createdAt: T0,
    });
  }

  it('points at the approval page, the id encoded as one path segment', async () => {
    const s = await setup({ consoleUrl: () => CONSOLE });
    await pendingOddId(s);
    const err = await refusal(s);
    expect(err.fields).toStrictEqual({
      approval_id: ODD_ID, rule_id: 'refunds', expires_at: rfc3339(T0 + 3_600_000), approval_url: `${CONSOLE}/approvals/apr%2F1%20%C3%BC%3F%23`,
    });
    expect([s.ctx.urlElicitation, s.ctx.auditExtra, s.ctx.sideEvents]).toStrictEqual([false, { action_digest: DIGEST, approval_id: ODD_ID }, []]);
  });

  it('gives no link without a console (none configured, or none enabled)', async () => {
    for (const consoleUrl of [undefined, () => null]) {
      const s = await setup({ consoleUrl, ctx: { mcpSession: { id: 'm1', boundHere: true }, mcpMessage: { id: 1, method: 'tools/call' } } });
      const err = await refusal(s);
      expect(['approval_url' in err.fields, s.ctx.urlElicitation]).toStrictEqual([false, undefined]);
    }
  });

  it('asks for URL elicitation only for a request to an MCP session bound here that declared it', async () => {
    const cases: [Record<string, unknown>, boolean][] = [
      [{ mcpSession: { id: 'm1', boundHere: true }, mcpMessage: { id: 0, method: 'tools/call' } }, true],
      [{ mcpSession: { id: 'm2', boundHere: true }, mcpMessage: { id: 0, method: 'tools/call' } }, false],
      [{ mcpSession: { id: 'm1', boundHere: false }, mcpMessage: { id: 0, method: 'tools/call' } }, false],
      [{ mcpSession: { id: 'm1', boundHere: true }, mcpMessage: { id: undefined, method: 'tools/call' } }, false],
      [{ mcpSession: { id: 'm1', boundHere: true } }, false],
      [{ mcpMessage: { id: 0, method: 'tools/call' } }, false],
    ];
    for (const [ctx, expected] of cases) {
      const s = await setup({ consoleUrl: () => CONSOLE, ctx });
      await s.store.mcpSessions.bind({ tool: 'billing', mcpSessionId: 'm1', sessionId: 'ses_1', createdAt: T0, urlElicitation: true });
      await s.store.mcpSessions.bind({ tool: 'billing', mcpSessionId: 'm2', sessionId: 'ses_1', createdAt: T0, urlElicitation: false });
      await s.store.mcpSessions.bind({ tool: 'crm', mcpSessionId: 'm2', sessionId: 'ses_1', createdAt: T0, urlElicitation: true });
      const err = await refusal(s);
      expect([err.code, s.ctx.urlElicitation]).toStrictEqual(['approval_required', expected]);
    }
  });

  it('falls back to the plain answer when the store cannot say', async () => {
    const s = await setup({ consoleUrl: () => CONSOLE, ctx: { mcpSession: { id: 'm1', boundHere: true }, mcpMessage: { id: 4, method: 'tools/call' } } });
    s.store.mcpSessions.urlElicitation = async () => {
      throw new Error('store down');
    };
    const err = await refusal(s);
    expect([err.code, typeof err.fields.approval_url, s.ctx.urlElicitation]).toStrictEqual(['approval_required', 'string', false]);
  });
});
