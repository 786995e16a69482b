// SPEC §7 approval routes and §9 deciding rules: who may see and decide what, with exact codes; expiry
// driven by a manual clock (no waiting).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_SECRET, AGENT_SECRET, APPROVER_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { HR_SECRET, SECOND_APPROVER_SECRET, approvalPolicy, approvalTrail, decide, openSession, refund } from '../helpers/approvals.js';
import { ManualClock } from '../../src/util/clock.js';

const HOUR = 3_600_000;

describe('approval routes on the control plane (SPEC §7, §9)', () => {
  let upstream: TestUpstream;
  let t: TestGateway;
  const list = (secret: string, query = '') => call(`${t.control}/v1/approvals${query}`, { headers: bearer(secret) });

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestGateway({ upstreamUrl: upstream.url, policy: approvalPolicy() });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  const requested = async (path = '/refunds'): Promise<{ id: string; token: string; sessionId: string }> => {
    const s = await openSession(t.control);
    const res = await refund(t.data, s.token, path);
    expect(res.json.code).toBe('approval_required');
    return { id: res.json.approval_id, token: s.token, sessionId: s.session_id };
  };

  it('answers 409 approval_not_pending to approving twice, and to approving after a denial', async () => {
    const { id } = await requested();
    expect((await decide(t.control, id, 'approve')).status).toBe(200);
    const twice = await decide(t.control, id, 'approve', SECOND_APPROVER_SECRET);
    expect(twice.status).toBe(409);
    expect(twice.json).toMatchObject({ code: 'approval_not_pending', approval_id: id, state: 'approved' });
    const other = (await requested()).id;
    await decide(t.control, other, 'deny');
    expect((await decide(t.control, other, 'approve')).json.code).toBe('approval_not_pending');
    expect((await decide(t.control, other, 'deny')).json.code).toBe('approval_not_pending');
  });

  it('refuses an agent deciding with 403 forbidden: session token, valid or stale; an agent secret is no person credential', async () => {
    const { id, token, sessionId } = await requested();
    for (const verb of ['approve', 'deny'] as const) {
      const res = await decide(t.control, id, verb, token);
      expect(res.status).toBe(403);
      expect(res.json.code).toBe('forbidden');
    }
    expect((await list(token)).json.code).toBe('forbidden');
    expect((await call(`${t.control}/v1/approvals/${id}`, { headers: bearer(token) })).json.code).toBe('forbidden');
    await postJson(`${t.control}/v1/sessions/${sessionId}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET });
    expect((await decide(t.control, id, 'approve', token)).json.code).toBe('forbidden'); // now a stale-epoch token
    const secret = await decide(t.control, id, 'approve', AGENT_SECRET);
    expect(secret.status).toBe(401);
    expect(secret.json.code).toBe('credential_invalid');
    const forbidden = t.auditRecords().filter((r) => r.unmapped.epochgate.event === 'approval.approve' && r.status_code === 'forbidden');
    expect(forbidden.at(-1)!.actor.user).toEqual({ uid: 'billing-bot', type: 'agent' });
    expect((await call(`${t.control}/v1/approvals/${id}`, { headers: bearer(ADMIN_SECRET) })).json.state).toBe('pending');
  });

  it('refuses a person with the wrong approver role, and admin alone (separation of duties), with 403 forbidden', async () => {
    const { id } = await requested();
    const hr = await decide(t.control, id, 'approve', HR_SECRET);
    expect(hr.status).toBe(403);
    expect(hr.json.code).toBe('forbidden');
    const admin = await decide(t.control, id, 'approve', ADMIN_SECRET);
    expect(admin.status).toBe(403);
    expect(admin.json.code).toBe('forbidden');
    expect((await decide(t.control, id, 'deny', ADMIN_SECRET)).json.code).toBe('forbidden');
    expect((await call(`${t.control}/v1/approvals/${id}`, { headers: bearer(HR_SECRET) })).json.code).toBe('forbidden');
    expect((await call(`${t.control}/v1/approvals/${id}`, { headers: bearer(ADMIN_SECRET) })).json.state).toBe('pending');
    // The right role decides it.
    expect((await decide(t.control, id, 'approve', SECOND_APPROVER_SECRET)).json).toMatchObject({ state: 'approved', decided_by: 'carol' });
  });

  it('lists what each person may decide; admins see all; filters by state and session', async () => {
    const refundReq = await requested();
    const payrollReq = await requested('/payroll/run');
    const ids = (res: { json: any }) => (res.json.approvals as { approval_id: string }[]).map((a) => a.approval_id);
    const alice = await list(APPROVER_SECRET);
    expect(alice.status).toBe(200);
    expect(ids(alice)).toContain(refundReq.id);
    expect(ids(alice)).not.toContain(payrollReq.id);
    const bob = await list(HR_SECRET);
    expect(ids(bob)).toContain(payrollReq.id);
    expect(ids(bob)).not.toContain(refundReq.id);
    const admin = await list(ADMIN_SECRET);
    expect(ids(admin)).toEqual(expect.arrayContaining([refundReq.id, payrollReq.id]));
    expect(ids(await list(ADMIN_SECRET, `?session_id=${refundReq.sessionId}`))).toEqual([refundReq.id]);
    expect(ids(await list(ADMIN_SECRET, `?state=approved&session_id=${refundReq.sessionId}`))).toEqual([]);
    // The approver sees the action and the body preview.
    const view = (alice.json.approvals as Record<string, any>[]).find((a) => a.approval_id === refundReq.id)!;
    expect(view).toMatchObject({
      state: 'pending',
      session_id: refundReq.sessionId,
      agent_id: 'billing-bot',
      rule_id: 'refunds-need-approval',
      approver_roles: ['finance-approver'],
      summary: 'POST billing /refunds',
      body: { size: 31, preview: '{"amount":50,"invoice":"INV-1"}', preview_encoding: 'utf8', truncated: false },
    });
    expect(view.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers approval_not_found, invalid_request, token_missing and credential_invalid with their codes', async () => {
    expect((await decide(t.control, 'apr_nope', 'approve')).status).toBe(404);
    expect((await decide(t.control, 'apr_nope', 'approve')).json.code).toBe('approval_not_found');
    expect((await call(`${t.control}/v1/approvals/apr_nope`, { headers: bearer(APPROVER_SECRET) })).json.code).toBe('approval_not_found');
    const { id } = await requested();
    const extra = await decide(t.control, id, 'approve', APPROVER_SECRET, { comment: 'ok', agent_id: 'billing-bot' });
    expect(extra.status).toBe(400);
    expect(extra.json.code).toBe('invalid_request');
    expect((await list(APPROVER_SECRET, '?state=nonsense')).json.code).toBe('invalid_request');
    expect((await list(APPROVER_SECRET, '?colour=red')).json.code).toBe('invalid_request');
    const none = await call(`${t.control}/v1/approvals`);
    expect(none.status).toBe(401);
    expect(none.json.code).toBe('token_missing');
    expect((await list('not-a-person-secret')).json.code).toBe('credential_invalid');
    expect((await call(`${t.control}/v1/approvals/${id}`, { headers: bearer(APPROVER_SECRET) })).json.state).toBe('pending');
  });
});

describe('approval expiry (SPEC §9: an expired approval is never used)', () => {
  let upstream: TestUpstream;
  let t: TestGateway;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestGateway({ upstreamUrl: upstream.url, policy: approvalPolicy(), clock });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  /** Keeps the session's lease alive across long jumps of the clock (lease_ttl is 5 min). */
  const fresh = async () => openSession(t.control);

  it('answers 409 approval_not_pending to approving a pending approval whose ttl passed, and audits the expiry', async () => {
    const s = await fresh();
    const id = (await refund(t.data, s.token)).json.approval_id as string;
    clock.advance(HOUR);
    const res = await decide(t.control, id, 'approve');
    expect(res.status).toBe(409);
    expect(res.json).toMatchObject({ code: 'approval_not_pending', state: 'expired' });
    expect(approvalTrail(t.auditRecords(), id).map(([e]) => e)).toEqual(['approval.request', 'approval.expire', 'approval.approve']);
    expect(t.auditRecords().filter((r) => r.unmapped.epochgate.approval_id === id).at(-1)!.status_code).toBe('approval_not_pending');
  });

  it('never uses an approved approval after its ttl: the call needs a new approval', async () => {
    const s = await fresh();
    const id = (await refund(t.data, s.token)).json.approval_id as string;
    await decide(t.control, id, 'approve');
    clock.advance(HOUR - 1);
    const s2 = await fresh(); // same agent, other session: approvals are per session
    expect((await refund(t.data, s2.token)).json.approval_id).not.toBe(id);
    clock.advance(1);
    const token = (await postJson(`${t.control}/v1/sessions/${s.session_id}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET })).json.token;
    const before = upstream.seen.length;
    const res = await refund(t.data, token);
    expect(res.json.code).toBe('approval_required');
    expect(res.json.approval_id).not.toBe(id);
    expect(upstream.seen.length).toBe(before);
    expect((await call(`${t.control}/v1/approvals/${id}`, { headers: bearer(ADMIN_SECRET) })).json).toMatchObject({ state: 'expired', expire_reason: 'ttl' });
  });

  it('refuses with approval_denied until the denial’s ttl passed, then creates a new pending approval', async () => {
    const s = await fresh();
    const id = (await refund(t.data, s.token)).json.approval_id as string;
    await decide(t.control, id, 'deny');
    clock.advance(HOUR - 1);
    const resume = () => postJson(`${t.control}/v1/sessions/${s.session_id}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET });
    let token = (await resume()).json.token;
    expect((await refund(t.data, token)).json).toMatchObject({ code: 'approval_denied', approval_id: id });
    clock.advance(1);
    token = (await resume()).json.token;
    const after = await refund(t.data, token);
    expect(after.json.code).toBe('approval_required');
    expect(after.json.approval_id).not.toBe(id);
  });

  it('sweeps lapsed approvals to expired and audits each', async () => {
    const s = await fresh();
    const id = (await refund(t.data, s.token)).json.approval_id as string;
    clock.advance(HOUR);
    expect(await t.gw.sweep()).toBeGreaterThanOrEqual(1);
    expect((await call(`${t.control}/v1/approvals/${id}`, { headers: bearer(ADMIN_SECRET) })).json.state).toBe('expired');
    const expire = t.auditRecords().find((r) => r.unmapped.epochgate.event === 'approval.expire' && r.unmapped.epochgate.approval_id === id)!;
    expect(expire).toMatchObject({ disposition_id: 2, actor: { user: { uid: 'epochgate', type: 'system' }, session: { uid: s.session_id } } });
    expect(expire.unmapped.epochgate).toMatchObject({ rule_id: 'refunds-need-approval', reason: 'ttl' });
  });
});
