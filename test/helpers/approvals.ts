// Shared fixtures for the approval tests (SPEC §9): a policy with several approver roles and holds, and
// small helpers to drive a gateway through the approval flow.
import { expect } from 'vitest';
import { sha256Hex } from '../../src/util/hash.js';
import { AGENT_SECRET, APPROVER_SECRET, defaultPolicy } from './gateway.js';
import { bearer, call, postJson, type Reply } from './client.js';

export const HR_SECRET = 'test-hr-approver-secret-0123456789';
export const SECOND_APPROVER_SECRET = 'test-second-approver-secret-01234';

/**
 * The default policy (alice: finance-approver, sec-admin: admin) plus bob (hr-approver, so he is an
 * approver — just not of the finance rules) and carol (finance-approver), and rules with holds and an MCP tool.
 * `aliceRoles` lets a test take alice's approver role away.
 */
export function approvalPolicy(options: { aliceRoles?: string; heldHold?: string } = {}): string {
  const people = `  bob:
    roles: [hr-approver]
    credentials: [{ type: secret, sha256: "${sha256Hex(HR_SECRET)}" }]
  carol:
    roles: [finance-approver]
    credentials: [{ type: secret, sha256: "${sha256Hex(SECOND_APPROVER_SECRET)}" }]
rules:
`;
  const rules = `  - id: held-refunds
    effect: require_approval
    roles: [billing-agent]
    tools: [billing]
    methods: [POST]
    paths: ["/held/**"]
    approval: { approvers: [finance-approver], ttl: 1h, hold: ${options.heldHold ?? '10s'} }
  - id: short-hold
    effect: require_approval
    roles: [billing-agent]
    tools: [billing]
    methods: [POST]
    paths: ["/short/**"]
    approval: { approvers: [finance-approver], ttl: 1h, hold: 300ms }
  - id: payroll
    effect: require_approval
    roles: [billing-agent]
    tools: [billing]
    methods: [POST]
    paths: ["/payroll/**"]
    approval: { approvers: [hr-approver], ttl: 1h, hold: 0s }
  - id: mcp-refunds
    effect: require_approval
    roles: [billing-agent]
    tools: [crm]
    mcp_tools: ["refund_*"]
    approval: { approvers: [finance-approver], ttl: 1h, hold: 0s }
`;
  let policy = defaultPolicy(rules).replace('rules:\n', people);
  if (options.aliceRoles !== undefined) policy = policy.replace('    roles: [finance-approver]\n    credentials: [{ type: secret, sha256: "' + sha256Hex(APPROVER_SECRET), `    roles: [${options.aliceRoles}]\n    credentials: [{ type: secret, sha256: "` + sha256Hex(APPROVER_SECRET));
  return policy;
}

export interface Session {
  session_id: string;
  token: string;
  epoch: number;
}

let tasks = 0;

export async function openSession(control: string): Promise<Session> {
  const res = await postJson(`${control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: `approvals-${process.pid}-${++tasks}` });
  expect(res.status).toBe(201);
  return res.json as Session;
}

export function refund(data: string, token: string, path = '/refunds', body = '{"amount":50,"invoice":"INV-1"}'): Promise<Reply> {
  return call(`${data}/tools/billing${path}`, { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body });
}

export const decide = (control: string, id: string, verb: 'approve' | 'deny', secret = APPROVER_SECRET, body: unknown = {}): Promise<Reply> =>
  postJson(`${control}/v1/approvals/${id}/${verb}`, body, bearer(secret));

/** Waits until the session has a pending approval (the held call created it), polling the control plane. */
export async function pendingApprovalOf(control: string, sessionId: string, secret = APPROVER_SECRET, timeoutMs = 5000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(`${control}/v1/approvals?state=pending&session_id=${sessionId}`, { headers: bearer(secret) });
    const found = res.json?.approvals?.[0]?.approval_id as string | undefined;
    if (found) return found;
    if (Date.now() > until) throw new Error(`no pending approval for ${sessionId} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The approval.* audit records for one approval id, as [event, disposition_id] in file order. */
export function approvalTrail(records: Record<string, any>[], approvalId: string): [string, number][] {
  return records
    .filter((r) => String(r.unmapped?.epochgate?.event).startsWith('approval.') && r.unmapped.epochgate.approval_id === approvalId)
    .map((r) => [r.unmapped.epochgate.event, r.disposition_id]);
}
