// `npm run demo`: a sample tool API, the real gateway (built CLI, temporary SQLite file, the shipped
// policies), and the story of a crash-and-resume, narrated with what is sent and what comes back.
// Exits 0 only if every step behaved as stated.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { verifyAuditLines } from '../audit/verify.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSampleTool, type SampleTool } from './sample-tool.js';
import { spawnGateway } from './spawn-gateway.js';
import { writeDemoConfig } from './demo-config.js';

// Demo-only credentials of the shipped example policy (policies/billing.yaml).
const AGENT = { agent_id: 'billing-bot', client_secret: 'demo-billing-bot-secret' };
const ADMIN_SECRET = 'demo-admin-secret';

interface Exchange {
  status: number;
  body: Record<string, unknown>;
}

let failures = 0;
const say = (text: string) => process.stdout.write(`${text}\n`);
const short = (token: string) => `${token.slice(0, 12)}…${token.slice(-6)}`;

async function send(method: string, url: string, options: { token?: string; json?: unknown } = {}): Promise<Exchange> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  const shown = options.json === undefined ? '' : ` ${JSON.stringify(options.json).replace(/"client_secret":"[^"]*"/, '"client_secret":"…"')}`;
  // Session tokens are shown shortened; a person's secret is never shown at all.
  const credential = options.token === undefined ? '' : options.token.includes('.') ? ` (Bearer ${short(options.token)})` : ' (Bearer <admin secret>)';
  say(`   → ${method} ${url}${credential}${shown}`);
  const res = await fetch(url, { method, headers, ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}) });
  const text = await res.text();
  const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  const summary = { ...body };
  if (typeof summary.token === 'string') summary.token = short(summary.token);
  say(`   ← ${res.status} ${JSON.stringify(summary).slice(0, 300)}`);
  return { status: res.status, body };
}

function expect(step: string, ok: boolean): void {
  say(ok ? `   ✓ ${step}\n` : `   ✗ ${step}  <-- NOT AS EXPECTED\n`);
  if (!ok) failures++;
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'epochgate-demo-'));
  const tool = await startSampleTool();
  const configFile = writeDemoConfig(dir, tool.url);
  say(`epochgate demo: sample tool API at ${tool.url}, gateway state in a temporary directory\n`);
  const gateway = await spawnGateway(configFile).catch(async (err: unknown) => {
    await tool.close();
    throw err;
  });
  const control = gateway.controlUrl;
  try {
    await tellStory(control, tool);
  } finally {
    const code = await gateway.stop();
    if (code !== 0) {
      say(`gateway exited with ${code} on SIGTERM`);
      failures++;
    }
    await tool.close();
    reportAudit(join(dir, 'audit.log'));
    // The state directory is temporary: it is named only when it is kept (a failure, or EPOCHGATE_DEMO_KEEP=1).
    const keep = failures > 0 || process.env.EPOCHGATE_DEMO_KEEP === '1';
    if (keep) say(`State kept in ${dir} (audit stream: ${join(dir, 'audit.log')}; check it with: epochgate audit verify ${join(dir, 'audit.log')}).`);
    else rmSync(dir, { recursive: true, force: true });
  }
  say(failures === 0 ? 'demo: every step behaved as stated.' : `demo: ${failures} step(s) did not behave as stated.`);
  return failures === 0 ? 0 : 1;
}

/** Steps 1–5: a session, a crash, a resume, and the zombie worker fenced out. */
async function tellStory(control: string, tool: SampleTool): Promise<void> {
  say('1. The agent opens a session for its task and receives a short-lived token (epoch 1).');
  const created = await send('POST', `${control}/v1/sessions`, { json: { ...AGENT, task_id: 'refund-4711' } });
  expect('201 with a token for epoch 1', created.status === 201 && created.body.epoch === 1);
  const sessionId = String(created.body.session_id);
  const oldToken = String(created.body.token);
  const billing = String((created.body.tool_urls as Record<string, string>).billing);

  say('2. It calls its tool through the gateway.');
  const first = await send('GET', `${billing}/invoices/42`, { token: oldToken });
  expect('200 from the tool, which saw epoch 1', first.status === 200 && first.body.seen_epoch === '1');

  say('3. The worker crashes. The orchestrator resumes the session for a new worker (expected epoch 1).');
  const resumed = await send('POST', `${control}/v1/sessions/${sessionId}/resume`, { json: { ...AGENT, expected_epoch: 1 } });
  expect('200, now epoch 2, with a new token', resumed.status === 200 && resumed.body.epoch === 2 && resumed.body.previous_epoch === 1);
  const newToken = String(resumed.body.token);

  say('4. The old worker (a zombie) still holds its epoch-1 token and tries again.');
  const stale = await send('GET', `${billing}/invoices/42`, { token: oldToken });
  expect('401 session_stale_epoch, resume required', stale.status === 401 && stale.body.code === 'session_stale_epoch' && stale.body.resume_required === true);

  say('5. The new worker uses the epoch-2 token.');
  const fresh = await send('GET', `${billing}/invoices/42`, { token: newToken });
  expect('200 from the tool, which saw epoch 2', fresh.status === 200 && fresh.body.seen_epoch === '2');
  await tellRevocation(control, tool, { sessionId, oldToken, newToken, billing });
}

/** Steps 6–8: a policy denial, then a revocation that ends every token of the session. */
async function tellRevocation(control: string, tool: SampleTool, s: { sessionId: string; oldToken: string; newToken: string; billing: string }): Promise<void> {
  const { sessionId, oldToken, newToken, billing } = s;
  say('6. The agent tries a call outside its policy (rule never-admin).');
  const callsBefore = tool.calls;
  const denied = await send('GET', `${billing}/admin/users`, { token: newToken });
  expect('403 policy_denied by never-admin; the tool was not called', denied.status === 403 && denied.body.code === 'policy_denied' && denied.body.rule_id === 'never-admin' && tool.calls === callsBefore);

  say('7. A security admin revokes the session.');
  const revoked = await send('POST', `${control}/v1/sessions/${sessionId}/revoke`, { token: ADMIN_SECRET, json: { reason: 'demo: incident drill' } });
  expect('200, state revoked', revoked.status === 200 && revoked.body.state === 'revoked');

  say('8. Every call of the session is refused now, and it cannot be resumed.');
  const afterNew = await send('GET', `${billing}/invoices/42`, { token: newToken });
  const afterOld = await send('GET', `${billing}/invoices/42`, { token: oldToken });
  const afterResume = await send('POST', `${control}/v1/sessions/${sessionId}/resume`, { json: AGENT });
  expect(
    '401 session_revoked for both tokens, 409 session_revoked for the resume',
    afterNew.status === 401 && afterNew.body.code === 'session_revoked' && afterOld.status === 401 && afterOld.body.code === 'session_revoked' && afterResume.status === 409 && afterResume.body.code === 'session_revoked',
  );
  say(`The tool API received ${tool.calls} request(s) in all.`);
}

/** Checks the stopped gateway's audit stream the way `epochgate audit verify` does, and summarises it. */
function reportAudit(file: string): void {
  const text = readFileSync(file, 'utf8');
  const result = verifyAuditLines(text);
  const events = new Set(text.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { api?: { operation?: string } }).api?.operation));
  if (result.ok) say(`The audit stream held ${result.records} records (${[...events].join(', ')}); its hash chain verifies.`);
  else say(`The audit stream does not verify: line ${result.line}: ${result.reason}  <-- NOT AS EXPECTED`);
  if (!result.ok) failures++;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
