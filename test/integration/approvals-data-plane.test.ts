// SPEC §9 on the data plane, in-process gateway with a real SQLite file and a real upstream: consumption,
// one-shot use, exact-action binding, races, holds, re-validation against the current policy, resume.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { barrierOn, nextCall } from '../helpers/barrier.js';
import { ManualClock } from '../../src/util/clock.js';
import { approvalPolicy, approvalTrail, decide, openSession, pendingApprovalOf, refund } from '../helpers/approvals.js';

describe('approvals on the data plane (SPEC §9)', () => {
  let upstream: TestUpstream;
  let t: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestGateway({ upstreamUrl: upstream.url, policy: approvalPolicy() });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  const seenRefunds = (): number => upstream.seen.filter((r) => r.url.startsWith('/api/refunds')).length;

  it('needs approval (403, upstream not called), proceeds once after approval, and needs a new one after', async () => {
    const s = await openSession(t.control);
    const before = seenRefunds();
    const first = await refund(t.data, s.token);
    expect(first.status).toBe(403);
    expect(first.json).toMatchObject({ code: 'approval_required', rule_id: 'refunds-need-approval' });
    expect(first.json.approval_id).toMatch(/^apr_[A-Za-z0-9_-]{22,}$/);
    expect(first.headers['retry-after']).toBe('5');
    expect(seenRefunds()).toBe(before);
    const id = first.json.approval_id as string;

    const approved = await decide(t.control, id, 'approve', undefined, { comment: 'ticket FIN-9' });
    expect(approved.status).toBe(200);
    expect(approved.json).toMatchObject({ approval_id: id, state: 'approved', decided_by: 'alice', comment: 'ticket FIN-9' });

    const second = await refund(t.data, s.token);
    expect(second.status).toBe(200);
    expect(seenRefunds()).toBe(before + 1);
    expect(upstream.seen.at(-1)!.body).toBe('{"amount":50,"invoice":"INV-1"}');

    const third = await refund(t.data, s.token);
    expect(third.status).toBe(403);
    expect(third.json.code).toBe('approval_required');
    expect(third.json.approval_id).not.toBe(id);
    expect(seenRefunds()).toBe(before + 1);

    const records = t.auditRecords();
    expect(approvalTrail(records, id)).toEqual([
      ['approval.request', 14],
      ['approval.approve', 8],
      ['approval.consume', 8],
    ]);
    const request = records.find((r) => r.unmapped.epochgate.event === 'approval.request' && r.unmapped.epochgate.approval_id === id)!;
    expect(request.actor).toMatchObject({ user: { uid: 'billing-bot', type: 'agent' }, session: { uid: s.session_id } });
    expect(request.actor.authorizations[0].policy.uid).toBe('refunds-need-approval');
    expect(request.unmapped.epochgate.digest).toMatch(/^[0-9a-f]{64}$/);
    const approve = records.find((r) => r.unmapped.epochgate.event === 'approval.approve' && r.unmapped.epochgate.approval_id === id)!;
    expect(approve.actor.user).toEqual({ uid: 'alice', type: 'person' });
    expect(approve.unmapped.epochgate).toMatchObject({ rule_id: 'refunds-need-approval', digest: request.unmapped.epochgate.digest });
    expect(JSON.stringify(records)).not.toContain('FIN-9'); // comments and bodies stay out of the stream
    const consumedCalls = records.filter((r) => r.unmapped.epochgate.event === 'tool.call' && r.unmapped.epochgate.approval_id === id && r.status_code === 'ok');
    expect(consumedCalls).toHaveLength(1);
  });

  it('binds the approval to the exact action: a body one byte different needs a new approval', async () => {
    const s = await openSession(t.control);
    const id = (await refund(t.data, s.token)).json.approval_id as string;
    expect((await decide(t.control, id, 'approve')).status).toBe(200);
    const before = seenRefunds();
    const other = await refund(t.data, s.token, '/refunds', '{"amount":51,"invoice":"INV-1"}');
    expect(other.status).toBe(403);
    expect(other.json.code).toBe('approval_required');
    expect(other.json.approval_id).not.toBe(id);
    expect(seenRefunds()).toBe(before);
    // Semantically equal JSON (key order, whitespace) is the same action and uses the approval.
    const same = await refund(t.data, s.token, '/refunds', '{ "invoice": "INV-1", "amount": 50.0 }');
    expect(same.status).toBe(200);
    expect(seenRefunds()).toBe(before + 1);
  });

  it('lets exactly one of two identical racing calls consume an approval; the other gets approval_required', async () => {
    const s = await openSession(t.control);
    const id = (await refund(t.data, s.token)).json.approval_id as string;
    await decide(t.control, id, 'approve');
    const before = seenRefunds();
    // Both calls are held in the store until both found the approved approval: only the store's
    // compare-and-set on the approval's state can pick the one that consumes it.
    const barrier = barrierOn(t.gw.store.approvals, 'consume');
    let results: Awaited<ReturnType<typeof refund>>[];
    try {
      results = await Promise.all([refund(t.data, s.token), refund(t.data, s.token)]);
      expect(await barrier.overlapped).toBe(true);
    } finally {
      barrier.restore();
    }
    expect(results.map((r) => r.status).sort()).toEqual([200, 403]);
    const loser = results.find((r) => r.status === 403)!;
    expect(loser.json.code).toBe('approval_required');
    expect(loser.json.approval_id).not.toBe(id);
    expect(seenRefunds()).toBe(before + 1);
  });

  it('answers approval_denied with the approval id after a denial, without calling the tool', async () => {
    const s = await openSession(t.control);
    const id = (await refund(t.data, s.token)).json.approval_id as string;
    const denied = await decide(t.control, id, 'deny', undefined, { comment: 'not this one' });
    expect(denied.json).toMatchObject({ state: 'denied', decided_by: 'alice' });
    const before = seenRefunds();
    const res = await refund(t.data, s.token);
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ code: 'approval_denied', approval_id: id });
    expect(res.text).not.toContain('alice');
    expect(res.text).not.toContain('not this one');
    expect(seenRefunds()).toBe(before);
    expect(approvalTrail(t.auditRecords(), id)).toEqual([
      ['approval.request', 14],
      ['approval.deny', 25],
    ]);
  });

  it('re-validates at use: an approval whose approver lost the role is not used, and a new one is needed', async () => {
    const s = await openSession(t.control);
    const id = (await refund(t.data, s.token)).json.approval_id as string;
    await decide(t.control, id, 'approve');
    t.writePolicy(approvalPolicy({ aliceRoles: 'auditor' }));
    expect(await t.gw.reloadPolicy()).toBe(true);
    try {
      const before = seenRefunds();
      const res = await refund(t.data, s.token);
      expect(res.status).toBe(403);
      expect(res.json.code).toBe('approval_required');
      expect(res.json.approval_id).not.toBe(id);
      expect(seenRefunds()).toBe(before);
      const view = await call(`${t.control}/v1/approvals/${id}`, { headers: bearer('test-admin-secret-0123456789') });
      expect(view.json).toMatchObject({ state: 'expired', expire_reason: 'approver_revoked' });
    } finally {
      t.writePolicy(approvalPolicy());
      expect(await t.gw.reloadPolicy()).toBe(true);
    }
  });

  it('lets the waiting request itself through when a person approves during the hold', async () => {
    const s = await openSession(t.control);
    const before = upstream.seen.length;
    const held = refund(t.data, s.token, '/held/refund');
    const id = await pendingApprovalOf(t.control, s.session_id);
    expect(upstream.seen.length).toBe(before);
    expect((await decide(t.control, id, 'approve')).status).toBe(200);
    const res = await held;
    expect(res.status).toBe(200);
    expect(upstream.seen.length).toBe(before + 1);
    expect(approvalTrail(t.auditRecords(), id).map(([event]) => event)).toEqual(['approval.request', 'approval.approve', 'approval.consume']);
  });

  it('answers 403 approval_denied to a held request when a person denies during the hold', async () => {
    const s = await openSession(t.control);
    const held = refund(t.data, s.token, '/held/deny-me');
    const id = await pendingApprovalOf(t.control, s.session_id);
    await decide(t.control, id, 'deny');
    const res = await held;
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ code: 'approval_denied', approval_id: id });
  });

  it('lists pending and approved-unconsumed approvals in the resume response, and they survive the resume', async () => {
    const s = await openSession(t.control);
    const pendingId = (await refund(t.data, s.token, '/refunds', '{"amount":1}')).json.approval_id as string;
    const approvedId = (await refund(t.data, s.token, '/refunds', '{"amount":2}')).json.approval_id as string;
    const consumedId = (await refund(t.data, s.token, '/refunds', '{"amount":3}')).json.approval_id as string;
    await decide(t.control, approvedId, 'approve');
    await decide(t.control, consumedId, 'approve');
    expect((await refund(t.data, s.token, '/refunds', '{"amount":3}')).status).toBe(200);

    const resumed = await postJson(`${t.control}/v1/sessions/${s.session_id}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, expected_epoch: 1 });
    expect(resumed.status).toBe(200);
    expect(resumed.json.epoch).toBe(2);
    const listed = resumed.json.approvals as Record<string, any>[];
    expect(listed.map((a) => [a.approval_id, a.state])).toEqual([
      [pendingId, 'pending'],
      [approvedId, 'approved'],
    ]);
    expect(listed[0]).toMatchObject({ rule_id: 'refunds-need-approval', action: { tool: 'billing', method: 'POST', path: '/refunds', query: '', mcp_tool: null } });
    // The agent never sees the body preview or who decided.
    expect(listed[1]!.body).toBeUndefined();
    expect(listed[1]!.decided_by).toBeUndefined();
    // The approval belongs to the session: the epoch-2 token uses it.
    expect((await refund(t.data, resumed.json.token, '/refunds', '{"amount":2}')).status).toBe(200);
  });

  it('digests an MCP tools/call by tool name and arguments only: another JSON-RPC id uses the same approval', async () => {
    const s = await openSession(t.control);
    const mcp = (id: number, amount: number) =>
      call(`${t.data}/tools/crm/`, {
        method: 'POST',
        headers: { ...bearer(s.token), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'refund_order', arguments: { order: 'A-1', amount } } }),
      });
    // SPEC §11: a refused tools/call comes back as a tool result, the problem in _meta["io.epochgate/problem"].
    const first = await mcp(1, 5);
    expect(first.status).toBe(200);
    expect(first.json.id).toBe(1);
    expect(first.json.result.isError).toBe(true);
    const problem = first.json.result._meta['io.epochgate/problem'];
    expect(problem.code).toBe('approval_required');
    const view = await call(`${t.control}/v1/approvals/${problem.approval_id}`, { headers: bearer('test-admin-secret-0123456789') });
    expect(view.json.action).toMatchObject({ tool: 'crm', mcp_tool: 'refund_order' });
    await decide(t.control, problem.approval_id, 'approve');
    expect((await mcp(2, 6)).json.result._meta['io.epochgate/problem'].code).toBe('approval_required'); // other arguments: another action
    const before = upstream.seen.length;
    expect((await mcp(3, 5)).status).toBe(200);
    expect(upstream.seen.length).toBe(before + 1);
  });
});

describe('approval holds on an injected clock (SPEC §9)', () => {
  let upstream: TestUpstream;
  let t: TestGateway;
  const clock = new ManualClock(Date.parse('2026-11-24T12:00:00.000Z'));

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestGateway({ upstreamUrl: upstream.url, policy: approvalPolicy(), clock });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('holds the call through the 300 ms hold and answers 403 approval_required with Retry-After: 5 once it is over', async () => {
    const s = await openSession(t.control);
    let settled = false;
    const held = refund(t.data, s.token, '/short/refund').finally(() => (settled = true));
    const id = await pendingApprovalOf(t.control, s.session_id);
    // 299 ms into the hold: two more polls of the store, and the call is still held.
    clock.advance(299);
    for (let poll = 0; poll < 2; poll++) await Promise.race([nextCall(t.gw.store.approvals, 'get'), held]);
    expect(settled).toBe(false);
    clock.advance(1);
    const res = await held;
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ code: 'approval_required', approval_id: id });
    expect(res.headers['retry-after']).toBe('5');
    expect(upstream.seen.filter((r) => r.url.startsWith('/api/short'))).toEqual([]);
  });
});
