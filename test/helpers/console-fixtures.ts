// Shared fixtures of the console tests: a policy with a rule for hostile paths, markup planted in every
// field an agent controls, and the calls that plant it.
import { approvalPolicy } from './approvals.js';
import { AGENT_SECRET } from './gateway.js';
import { bearer, call, postJson, type Reply } from './client.js';

/** Markup and script an agent might send; each must reach the approver's page as these exact characters. */
export const HOSTILE = {
  path: '<img src=x onerror="window.__pwned=1">',
  query: '<script>window.__pwned=2</script>',
  body: '</pre><script>window.__pwned=3</script><b id="hostile-body">bold</b>',
  task: '<svg onload="window.__pwned=4">',
  metadata: '<iframe srcdoc="<script>parent.__pwned=5</script>"></iframe>',
  mcpTool: 'refund_<img_src=x_onerror=window.__pwned=6>',
  mcpArgument: '"><script>window.__pwned=7</script>',
} as const;

/** `heldHold`: how long calls under /held/** wait for a decision (the browser tests decide during it). */
export function consolePolicy(heldHold?: string): string {
  return `${approvalPolicy(heldHold === undefined ? {} : { heldHold })}  - id: hostile-paths
    effect: require_approval
    roles: [billing-agent]
    tools: [billing]
    methods: [POST]
    paths: ["/hostile/**"]
    approval: { approvers: [finance-approver], ttl: 1h, hold: 0s }
`;
}

export const CONSOLE_CONFIG = 'console:\n  enabled: true\n';

let tasks = 0;

/** A session whose task id and metadata carry markup. */
export async function hostileSession(control: string): Promise<{ session_id: string; token: string; task_id: string }> {
  const res = await postJson(`${control}/v1/sessions`, {
    agent_id: 'billing-bot',
    client_secret: AGENT_SECRET,
    task_id: `${HOSTILE.task}-${process.pid}-${++tasks}`,
    metadata: { note: HOSTILE.metadata },
  });
  if (res.status !== 201) throw new Error(`session not created: ${res.status} ${res.text}`);
  return res.json;
}

/** A POST whose path, query and body carry markup; answered approval_required. */
export function hostileCall(data: string, token: string): Promise<Reply> {
  return call(`${data}/tools/billing/hostile/${encodeURIComponent(HOSTILE.path)}?q=${encodeURIComponent(HOSTILE.query)}`, {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': 'application/json' },
    body: JSON.stringify({ note: HOSTILE.body, amount: 7 }),
  });
}

/** An MCP tools/call whose tool name and arguments carry markup. */
export function hostileMcpCall(data: string, token: string, id = 1): Promise<Reply> {
  return call(`${data}/tools/crm/`, {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: HOSTILE.mcpTool, arguments: { memo: HOSTILE.mcpArgument } } }),
  });
}
