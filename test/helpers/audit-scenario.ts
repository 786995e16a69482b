// One broad scenario over both planes that makes the gateway emit as many SPEC §13 events as it can:
// shared by the audit-schema test (every record must validate) and the redaction test (no secret may
// appear in the audit or the operational log). Returns every secret value the scenario put on the wire.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { RunningGateway } from '../../src/app.js';
import type { ManualClock } from '../../src/util/clock.js';
import { bearer, call, postJson, type Reply } from './client.js';
import type { JwtAgent } from './jwt-agent.js';
import { ADMIN_SECRET, AGENT_SECRET, APPROVER_SECRET, INJECTED_KEY, OTHER_AGENT_SECRET } from './gateway.js';

export interface ScenarioTarget {
  readonly gw: RunningGateway;
  readonly control: string;
  readonly data: string;
  readonly clock: ManualClock;
  readonly policyDir: string;
  readonly jwt: JwtAgent;
  /** How many requests the upstream has received so far. */
  upstreamCalls(): number;
}

/** A secret planted in a checkpoint state, a body and a header value: bodies never reach the audit. */
export const BODY_SECRET = 'body-secret-value-never-audited';

interface Run {
  readonly t: ScenarioTarget;
  /** Every secret value put on the wire so far. */
  readonly secrets: string[];
}

const expectStatus = (res: Reply, status: number, code?: string): void => {
  expect(res.status, res.text).toBe(status);
  if (code) expect(res.json.code).toBe(code);
};
const admin = bearer(ADMIN_SECRET);

export async function runBroadScenario(t: ScenarioTarget): Promise<string[]> {
  const run: Run = { t, secrets: [AGENT_SECRET, OTHER_AGENT_SECRET, ADMIN_SECRET, APPROVER_SECRET, INJECTED_KEY, BODY_SECRET] };
  const { a, viaJwt } = await openSessions(run);
  const sid = a.json.session_id as string;
  await dataPlane(run, a.json.token as string);
  await approvalsAndRoutes(run, a.json.token as string);
  await lifecycle(run, sid, a.json.token as string);
  await adminActions(run, sid, viaJwt);
  await policyReloads(run);
  await leaseSweep(run);
  return run.secrets;
}

/** Sessions: one with a client secret, one with a client assertion (and its replay), and a bad secret. */
async function openSessions({ t, secrets }: Run): Promise<{ a: Reply; viaJwt: Reply }> {
  const a = await postJson(`${t.control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: 'scenario-a' });
  expectStatus(a, 201);
  const usedAssertion = await t.jwt.assertion('jti-scenario-1');
  secrets.push(a.json.token, usedAssertion);
  const viaJwt = await postJson(`${t.control}/v1/sessions`, { agent_id: 'billing-bot', client_assertion: usedAssertion, task_id: 'scenario-jwt' });
  expectStatus(viaJwt, 201);
  secrets.push(viaJwt.json.token);
  expectStatus(await postJson(`${t.control}/v1/sessions`, { agent_id: 'billing-bot', client_assertion: usedAssertion, task_id: 'scenario-replay' }), 401, 'assertion_replayed');
  expectStatus(await postJson(`${t.control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: 'wrong-secret-value-0001', task_id: 'x' }), 401, 'credential_invalid');
  secrets.push('wrong-secret-value-0001');
  return { a, viaJwt };
}

/** Data plane: header and path-token forms, a deny, a body and a cookie that must never be audited. */
async function dataPlane({ t }: Run, token: string): Promise<void> {
  const tool = (path: string) => `${t.data}/tools/billing${path}`;
  expectStatus(await call(tool('/invoices/1'), { headers: { ...bearer(token), traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } }), 200);
  expectStatus(await call(`${t.data}/s/${token}/tools/billing/invoices/2?page=1`), 200);
  expectStatus(await call(tool('/echo/x'), { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json', cookie: `sid=${BODY_SECRET}` }, body: JSON.stringify({ secret: BODY_SECRET }) }), 200);
  expectStatus(await call(tool('/admin/users'), { headers: bearer(token) }), 403, 'policy_denied');
  expectStatus(await call(tool('/nothing-allows-this'), { headers: bearer(token) }), 403, 'policy_denied');
}

/** Approvals (SPEC §9): requested, approved by a person and consumed by the retry; a second one denied. Then
 *  unknown routes, unrouted targets carrying the token, no credential, and an MCP call. */
async function approvalsAndRoutes({ t }: Run, token: string): Promise<void> {
  const tool = (path: string) => `${t.data}/tools/billing${path}`;
  const refundCall = (amount: number) =>
    call(tool('/refunds'), { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify({ amount, note: BODY_SECRET }) });
  const approver = bearer(APPROVER_SECRET);
  const refund = await refundCall(5);
  expectStatus(refund, 403, 'approval_required');
  expectStatus(await postJson(`${t.control}/v1/approvals/${refund.json.approval_id}/approve`, { comment: 'ok' }, approver), 200);
  expectStatus(await refundCall(5), 200);
  const second = await refundCall(6);
  expectStatus(second, 403, 'approval_required');
  expectStatus(await postJson(`${t.control}/v1/approvals/${second.json.approval_id}/deny`, { comment: 'no' }, approver), 200);
  expectStatus(await refundCall(6), 403, 'approval_denied');
  // Left pending: it expires (approval.expire) when the clock passes its ttl at the end.
  expectStatus(await refundCall(7), 403, 'approval_required');
  expectStatus(await call(`${t.data}/tools/nope/x`), 404, 'route_not_found');
  // Unrouted targets that carry the token (SPEC §13): the audited path is cut to its first segment, redacted.
  expectStatus(await call(`${t.data}/${token}/tools/billing/invoices/1`), 404, 'route_not_found');
  expectStatus(await call(`${t.data}/x/y/${token}?t=${token}`), 404, 'route_not_found');
  expectStatus(await call(tool('/invoices/1')), 401, 'token_missing');
  expectStatus(await call(tool('/invoices/1'), { headers: bearer('not.a.jwt') }), 401, 'token_invalid');
  const mcp = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_customers', arguments: { q: BODY_SECRET } } };
  const mcpCall = await call(`${t.data}/tools/crm`, { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(mcp) });
  // Allowed and forwarded as sent: the echo upstream answers with the message it received.
  expectStatus(mcpCall, 200);
  expect(mcpCall.json).toEqual({ method: 'POST', url: '/mcp', body: JSON.stringify(mcp) });
}

/** Control-plane lifecycle: heartbeat, checkpoint, resume (the old token is fenced), refresh, suspend, close. */
async function lifecycle({ t, secrets }: Run, sid: string, firstToken: string): Promise<void> {
  const tool = (path: string) => `${t.data}/tools/billing${path}`;
  let token = firstToken;
  expectStatus(await postJson(`${t.control}/v1/sessions/${sid}/heartbeat`, {}, bearer(token)), 200);
  expectStatus(await postJson(`${t.control}/v1/sessions/${sid}/checkpoints`, { label: 'step-1', state: { secret: BODY_SECRET } }, bearer(token)), 201);
  // A side-effecting call after the checkpoint: replayed from the ledger after the resume (SPEC §10).
  const sideEffect = () => call(tool('/echo/pay'), { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body: '{"n":1}' });
  expectStatus(await sideEffect(), 200);
  const forwardedBefore = t.upstreamCalls();
  const resumed = await postJson(`${t.control}/v1/sessions/${sid}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, expected_epoch: 1 });
  expectStatus(resumed, 200);
  const oldToken = token;
  token = resumed.json.token;
  secrets.push(token);
  expectStatus(await call(tool('/invoices/1'), { headers: bearer(oldToken) }), 401, 'session_stale_epoch');
  const replayed = await sideEffect();
  expectStatus(replayed, 200);
  expect(replayed.headers['idempotent-replayed']).toBe('true');
  expect(t.upstreamCalls()).toBe(forwardedBefore);
  expectStatus(await postJson(`${t.control}/v1/sessions/${sid}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, expected_epoch: 1 }), 409, 'epoch_conflict');
  const refreshed = await postJson(`${t.control}/v1/sessions/${sid}/token`, { agent_id: 'billing-bot', client_assertion: await t.jwt.assertion('jti-scenario-2') });
  expectStatus(refreshed, 200);
  secrets.push(refreshed.json.token);
  expectStatus(await postJson(`${t.control}/v1/sessions/${sid}/suspend`, { reason: 'handoff' }, bearer(token)), 200);
  expectStatus(await call(tool('/invoices/1'), { headers: bearer(token) }), 401, 'session_suspended');
  const again = await postJson(`${t.control}/v1/sessions/${sid}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET });
  expectStatus(again, 200);
  secrets.push(again.json.token);
  expectStatus(await postJson(`${t.control}/v1/sessions/${sid}/close`, {}, bearer(again.json.token)), 200);
  expectStatus(await call(tool('/invoices/1'), { headers: bearer(again.json.token) }), 401, 'session_closed');
}

/** Admin: list (a read, not audited), revoke; a revoked session's token is refused. */
async function adminActions({ t }: Run, sid: string, viaJwt: Reply): Promise<void> {
  const tool = (path: string) => `${t.data}/tools/billing${path}`;
  expectStatus(await call(`${t.control}/v1/sessions?state=active`, { headers: admin }), 200);
  expectStatus(await postJson(`${t.control}/v1/sessions/${viaJwt.json.session_id}/revoke`, { reason: 'incident 77' }, admin), 200);
  expectStatus(await call(tool('/invoices/1'), { headers: bearer(viaJwt.json.token) }), 401, 'session_revoked');
  expectStatus(await postJson(`${t.control}/v1/sessions/${sid}/revoke`, {}, bearer(APPROVER_SECRET)), 403, 'forbidden');
}

/** Policy: a good reload, then a broken one (refused, audited), then the original back. */
async function policyReloads({ t }: Run): Promise<void> {
  const policyFile = join(t.policyDir, 'main.yaml');
  writeFileSync(policyFile, `${t.jwt.policy}# reloaded\n`);
  expect(await t.gw.reloadPolicy()).toBe(true);
  writeFileSync(policyFile, `${t.jwt.policy}colour: red\n`);
  expect(await t.gw.reloadPolicy()).toBe(false);
  writeFileSync(policyFile, t.jwt.policy);
  expect(await t.gw.reloadPolicy()).toBe(true);
}

/** Lease expiry (SPEC §5): an idle session is suspended by the sweep once lease_ttl (5m) has passed. */
async function leaseSweep({ t, secrets }: Run): Promise<void> {
  const idle = await postJson(`${t.control}/v1/sessions`, { agent_id: 'other-bot', client_secret: OTHER_AGENT_SECRET, task_id: 'scenario-idle' });
  expectStatus(idle, 201);
  secrets.push(idle.json.token);
  // Past lease_ttl (5m) and the approval ttl (1h): the sweep suspends idle sessions and expires approvals.
  t.clock.advance(61 * 60_000);
  // Exactly one change: the idle session is suspended (the approval left pending expired when its session closed).
  expect(await t.gw.sweep()).toBe(1);
  const swept = await call(`${t.control}/v1/sessions/${idle.json.session_id}`, { headers: admin });
  expect(swept.json).toMatchObject({ state: 'suspended' });
}
