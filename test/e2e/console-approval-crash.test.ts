// The first mission story, end to end on the built CLI (run `npm run build` first) with the console in real
// headless Chromium: while a worker's call waits for a human, the gateway is killed -9 (the worker dies with
// its connection) and restarted; the orchestrator resumes the session (epoch 2) and the pending approval is still there; the
// approver approves in the console; the resumed worker's identical call proceeds exactly once.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN_JS, spawnGateway, type SpawnedGateway } from '../../src/demo/spawn-gateway.js';
import { approvalPolicy, approvalTrail, pendingApprovalOf } from '../helpers/approvals.js';
import { launchBrowser, SCREENSHOTS, type TestBrowser } from '../helpers/browser.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { CONSOLE_CONFIG } from '../helpers/console-fixtures.js';
import { ADMIN_SECRET, AGENT_SECRET, APPROVER_SECRET, writeGatewayFiles } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const run = promisify(execFile);
const SLOW = 90_000;
const AGENT = { agent_id: 'billing-bot', client_secret: AGENT_SECRET };
const BODY = '{"amount":310,"invoice":"INV-88","reason":"double charge"}';

describe('e2e: worker crash while waiting for approval → resume → approve in the console → exactly once', () => {
  let upstream: TestUpstream;
  let gateway: SpawnedGateway | undefined;
  let browser: TestBrowser | undefined;
  let configFile: string;
  let auditFile: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'epochgate-e2e-console-'));
    ({ configFile, auditFile } = writeGatewayFiles({
      upstreamUrl: upstream.url, dir, logLevel: 'info', policy: approvalPolicy({ heldHold: '60s' }), extraConfig: CONSOLE_CONFIG,
    }));
    gateway = await spawnGateway(configFile);
  }, SLOW);
  afterAll(async () => {
    await browser?.close();
    await gateway?.stop('SIGKILL');
    await upstream.close();
  }, SLOW);

  const refunds = () => upstream.seen.filter((r) => r.method === 'POST' && r.url === '/api/held/refunds').length;
  const refund = (dataUrl: string, token: string, signal?: AbortSignal) =>
    call(`${dataUrl}/tools/billing/held/refunds`, {
      method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body: BODY, ...(signal ? { signal } : {}),
    });

  it('keeps the approval through both crashes and runs the call once, in epoch 2', async () => {
    // 1. The first worker's call waits for a person (held). While it waits it holds no ledger reservation:
    //    it has not reached the tool.
    const created = await postJson(`${gateway!.controlUrl}/v1/sessions`, { ...AGENT, task_id: 'refund-INV-88' });
    expect(created.status).toBe(201);
    const { session_id: sessionId, token: epoch1Token, scope } = created.json;
    const held1 = refund(gateway!.dataUrl, epoch1Token).then((reply) => reply.status, (err: Error) => err.name);
    const approvalId = await pendingApprovalOf(gateway!.controlUrl, sessionId, APPROVER_SECRET, 10_000);
    await expect.poll(async () => (await call(`${gateway!.controlUrl}/v1/sessions/${sessionId}/ledger`, { headers: bearer(ADMIN_SECRET) })).json.entries, { timeout: 10_000 }).toEqual([]);

    // 2. Mid-wait, the gateway is killed -9 (the worker loses its connection and dies with it) and restarted
    //    on the same SQLite file and audit stream.
    expect(await gateway!.stop('SIGKILL')).toBeNull();
    expect(await held1).toBe('SocketError');
    gateway = await spawnGateway(configFile);
    const { controlUrl, dataUrl } = gateway;

    // 3. The orchestrator resumes for a new worker: epoch 2, same task and scope, the approval still pending.
    const resumed = await postJson(`${controlUrl}/v1/sessions/${sessionId}/resume`, { ...AGENT, expected_epoch: 1 });
    expect(resumed.status).toBe(200);
    expect(resumed.json).toMatchObject({ session_id: sessionId, task_id: 'refund-INV-88', epoch: 2, previous_epoch: 1, scope });
    expect(resumed.json.approvals).toMatchObject([{ approval_id: approvalId, state: 'pending', rule_id: 'held-refunds' }]);

    // 4. The new worker repeats the identical call; it waits on the same approval.
    const held2 = refund(dataUrl, resumed.json.token);

    // 5. The approver signs in to the console, finds it in the inbox, checks the exact body and approves.
    browser = await launchBrowser();
    const page = browser.page;
    await page.goto(`${controlUrl}/console/sign-in`);
    await page.getByLabel('Person id').fill('alice');
    await page.getByLabel('Secret').fill(APPROVER_SECRET);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${controlUrl}/console/`);
    const row = page.locator('#inbox tbody tr', { hasText: 'POST billing /held/refunds' });
    await row.waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(SCREENSHOTS, 'mission-inbox.png'), fullPage: true });
    await row.getByRole('link').click();
    await page.waitForURL(`${controlUrl}/console/approvals/${approvalId}`);
    expect(await page.locator('#body-preview').textContent()).toBe(JSON.stringify(JSON.parse(BODY), null, 2));
    await page.getByLabel('Comment (optional)').fill('INV-88 was charged twice');
    await page.getByRole('button', { name: 'Approve' }).click();

    // 6. The resumed worker's call proceeds, exactly once, in epoch 2; the zombie token stays fenced.
    const answer = await held2;
    expect(answer.status, answer.text).toBe(200);
    expect(refunds()).toBe(1);
    expect(upstream.seen.at(-1)!.body).toBe(BODY);
    expect(upstream.seen.at(-1)!.headers['x-epochgate-epoch']).toBe('2');
    expect((await refund(dataUrl, epoch1Token)).json.code).toBe('session_stale_epoch');
    await expect.poll(() => page.reload().then(() => page.locator('#approval-state').textContent()), { timeout: 10_000 }).toBe('consumed');
    expect(await page.locator('#revalidation').textContent()).toContain('passed re-validation in epoch 2');
    await page.screenshot({ path: join(SCREENSHOTS, 'mission-consumed.png'), fullPage: true });

    // 7. The approval's whole life is in the audit stream, in order, and the stream verifies.
    await gateway.stop('SIGTERM');
    const records = readFileSync(auditFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(approvalTrail(records, approvalId).map(([event]) => event)).toEqual(['approval.request', 'approval.approve', 'approval.consume']);
    const verified = await run(process.execPath, [MAIN_JS, 'audit', 'verify', '--config', configFile, auditFile]);
    // The held call of the killed process left no tool.call and no ledger.unknown: it never reached the tool.
    expect(records.map((r) => r.unmapped.epochgate.event)).toEqual([
      'policy.load', 'gateway.start', 'session.create', 'approval.request',
      'policy.load', 'gateway.start', 'session.resume', 'console.sign_in', 'approval.approve', 'approval.consume', 'tool.call', 'tool.call',
      'gateway.stop', 'audit.anchor',
    ]);
    // Two chains (one per process start), the anchor written at the SIGTERM stop.
    expect(verified.stdout).toMatch(new RegExp(`^${auditFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ok: 14 records in 2 chains, 1 anchors\n$`));
  }, SLOW);
});
