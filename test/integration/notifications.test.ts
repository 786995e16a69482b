// Webhook notifications end to end (SPEC §18, §7 GET /v1/notifications): a real receiver on port 0 checks
// every signature; deliveries are retried after failures, delivered once, listed for admins and counted.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { openSession, refund } from '../helpers/approvals.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { ADMIN_SECRET, APPROVER_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { startReceiver, status, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const SECRET = 'hook-secret-for-tests-0123456789';

function notificationsConfig(url: string, events = '[approval.request, approval.approve, approval.deny, approval.expire, session.revoke, ledger.unknown]'): string {
  return `notifications:
  webhooks:
    - url: "${url}?token=receiver-own-secret"
      secret: "\${HOOK_SECRET}"
      events: ${events}
`;
}

const admin = bearer(ADMIN_SECRET);
const list = async (t: TestGateway, query = '') => (await call(`${t.control}/v1/notifications${query}`, { headers: admin })).json.deliveries as Record<string, any>[];

describe('webhook notifications (SPEC §18)', () => {
  let upstream: TestUpstream;
  let receiver: WebhookReceiver;
  let t: TestGateway;
  let clock: ManualClock;

  beforeEach(async () => {
    process.env.HOOK_SECRET = SECRET;
    upstream = await startUpstream();
    receiver = await startReceiver(SECRET);
    clock = new ManualClock(Date.now());
    t = await startTestGateway({ upstreamUrl: upstream.url, clock, extraConfig: notificationsConfig(receiver.url) });
  });
  afterEach(async () => {
    await t.close();
    await receiver.close();
    await upstream.close();
    delete process.env.HOOK_SECRET;
  });

  it('POSTs approval.request once, signed, with the event and delivery headers and what an approver may see', async () => {
    const s = await openSession(t.control);
    const held = await refund(t.data, s.token);
    expect(held.status).toBe(403);
    const approvalId = held.json.approval_id as string;
    await t.gw.notifications.deliverNow();
    await t.gw.notifications.deliverNow();
    expect(receiver.received).toHaveLength(1);
    const [hook] = receiver.received;
    expect(hook).toMatchObject({ event: 'approval.request', verified: true, contentType: 'application/json' });
    expect(hook!.signature).toMatch(new RegExp(`^t=${Math.floor(clock.now() / 1000)},v1=[0-9a-f]{64}$`));
    expect(hook!.json).toEqual({
      event: 'approval.request',
      delivery_id: hook!.deliveryId,
      occurred_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      session_id: s.session_id, agent_id: 'billing-bot', task_id: expect.stringMatching(/^approvals-/), epoch: 1,
      tool: 'billing', method: 'POST', path: '/refunds', approval_id: approvalId, rule_id: 'refunds-need-approval',
      expires_at: held.json.expires_at,
    });
    expect(hook!.body).not.toContain('INV-1');
    expect(hook!.body).not.toContain(s.token);
    const deliveries = await list(t);
    expect(deliveries).toEqual([{
      delivery_id: hook!.deliveryId, event: 'approval.request', url: receiver.url, state: 'delivered', attempts: 1,
      next_attempt_at: null, last_status: 200, last_error: null, created_at: expect.any(String), updated_at: expect.any(String),
    }]);
    const metrics = (await call(`${t.control}/metrics`)).text;
    expect(metrics).toContain('epochgate_notification_deliveries_total{outcome="delivered"} 1');
    expect(metrics).toContain('epochgate_notifications{state="delivered"} 1');
    expect(metrics).toContain('epochgate_notifications{state="pending"} 0');
  });

  it('retries after 500s with backoff, keeps the delivery id, then delivers once and stops', async () => {
    receiver.answers.push(status(500), status(503));
    const s = await openSession(t.control);
    expect((await postJson(`${t.control}/v1/sessions/${s.session_id}/revoke`, {}, admin)).status).toBe(200);
    await t.gw.notifications.deliverNow();
    const [first] = await list(t, '?state=pending');
    expect(first).toMatchObject({ event: 'session.revoke', attempts: 1, last_status: 500, last_error: 'http_500' });
    // Jittered 10 s ± 20 %: not due yet a second later.
    expect(Date.parse(first!.next_attempt_at) - clock.now()).toBeGreaterThanOrEqual(8_000);
    expect(Date.parse(first!.next_attempt_at) - clock.now()).toBeLessThanOrEqual(12_000);
    clock.advance(1_000);
    await t.gw.notifications.deliverNow();
    expect(receiver.received).toHaveLength(1);
    for (const expected of [2, 3]) {
      clock.advance(60_000);
      await t.gw.notifications.deliverNow();
      expect(receiver.received).toHaveLength(expected);
    }
    clock.advance(3_600_000);
    await t.gw.notifications.deliverNow();
    expect(receiver.received.map((r) => [r.event, r.verified, r.deliveryId])).toEqual(
      Array.from({ length: 3 }, () => ['session.revoke', true, first!.delivery_id]),
    );
    expect(receiver.received[0]!.json).toMatchObject({ event: 'session.revoke', session_id: s.session_id, revoked_by: 'sec-admin', agent_id: 'billing-bot' });
    expect(await list(t)).toEqual([expect.objectContaining({ delivery_id: first!.delivery_id, state: 'delivered', attempts: 3, last_status: 200, last_error: null })]);
    const metrics = (await call(`${t.control}/metrics`)).text;
    expect(metrics).toContain('epochgate_notification_deliveries_total{outcome="retry"} 2');
    expect(metrics).toContain('epochgate_notification_deliveries_total{outcome="delivered"} 1');
  });

  it('notifies approve and deny decided by a person, and not a refused decision', async () => {
    const s = await openSession(t.control);
    const first = (await refund(t.data, s.token)).json.approval_id as string;
    const second = (await refund(t.data, s.token, '/refunds', '{"amount":60}')).json.approval_id as string;
    // The admin is no approver: audited as approval.approve with forbidden, and not notified.
    expect((await postJson(`${t.control}/v1/approvals/${first}/approve`, {}, admin)).status).toBe(403);
    expect((await postJson(`${t.control}/v1/approvals/${first}/approve`, { comment: 'ok COMMENT-TEXT' }, bearer(APPROVER_SECRET))).status).toBe(200);
    expect((await postJson(`${t.control}/v1/approvals/${second}/deny`, {}, bearer(APPROVER_SECRET))).status).toBe(200);
    await t.gw.notifications.deliverNow();
    const seen = receiver.received.map((r) => [r.event, r.json.approval_id, r.json.decided_by ?? null]).sort();
    expect(seen).toEqual([
      ['approval.approve', first, 'alice'], ['approval.deny', second, 'alice'],
      ['approval.request', first, null], ['approval.request', second, null],
    ].sort());
    expect(receiver.received.every((r) => r.verified && !r.body.includes('COMMENT-TEXT'))).toBe(true);
  });

  it('GET /v1/notifications is for admins only and validates its query', async () => {
    expect((await call(`${t.control}/v1/notifications`, { headers: bearer(APPROVER_SECRET) })).status).toBe(403);
    expect((await call(`${t.control}/v1/notifications`)).status).toBe(401);
    const s = await openSession(t.control);
    // A session token is no person credential: answered like every admin-only route (GET /v1/policy).
    const policyAnswer = await call(`${t.control}/v1/policy`, { headers: bearer(s.token) });
    const agentAnswer = await call(`${t.control}/v1/notifications`, { headers: bearer(s.token) });
    expect([agentAnswer.status, agentAnswer.json.code]).toEqual([policyAnswer.status, policyAnswer.json.code]);
    expect(agentAnswer.status).toBe(401);
    const bad = await call(`${t.control}/v1/notifications?state=lost`, { headers: admin });
    expect([bad.status, bad.json.code]).toEqual([400, 'invalid_request']);
    const unknown = await call(`${t.control}/v1/notifications?since=1`, { headers: admin });
    expect([unknown.status, unknown.json.code]).toEqual([400, 'invalid_request']);
    expect(await list(t, '?state=failed')).toEqual([]);
  });
});
