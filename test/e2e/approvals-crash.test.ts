// The issue 3 seed scenario end to end, on the built CLI (run `npm run build` first): an approval survives
// kill -9 and a resume, is used exactly once, and its whole life is in the audit stream in order.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN_JS, spawnGateway, type SpawnedGateway } from '../../src/demo/spawn-gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { AGENT_SECRET, APPROVER_SECRET, writeGatewayFiles } from '../helpers/gateway.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { approvalTrail } from '../helpers/approvals.js';

const run = promisify(execFile);

describe('e2e: an approval across kill -9, restart and resume (SPEC §9)', () => {
  let upstream: TestUpstream;
  let gateway: SpawnedGateway | undefined;
  let configFile: string;
  let auditFile: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'epochgate-e2e-approvals-'));
    ({ configFile, auditFile } = writeGatewayFiles({ upstreamUrl: upstream.url, dir, logLevel: 'info' }));
    gateway = await spawnGateway(configFile);
  });

  afterAll(async () => {
    await gateway?.stop('SIGKILL');
    await upstream.close();
  });

  const refunds = () => upstream.seen.filter((r) => r.method === 'POST' && r.url === '/api/refunds').length;
  const body = '{"amount":120,"invoice":"INV-77"}';
  const refund = (dataUrl: string, token: string) =>
    call(`${dataUrl}/tools/billing/refunds`, { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body });

  it('needs approval, survives kill -9, is approved, survives a resume, is used exactly once, and is audited in order', async () => {
    // 1. A session; the refund needs approval: 403 approval_required, the tool is not called.
    const created = await postJson(`${gateway!.controlUrl}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: 'refund-INV-77' });
    expect(created.status).toBe(201);
    const { session_id: sessionId, token: epoch1Token } = created.json;
    const asked = await refund(gateway!.dataUrl, epoch1Token);
    expect(asked.status).toBe(403);
    expect(asked.json.code).toBe('approval_required');
    expect(asked.headers['retry-after']).toBe('5');
    const approvalId = asked.json.approval_id as string;
    expect(refunds()).toBe(0);

    // 2. kill -9, restart on the same SQLite file.
    expect(await gateway!.stop('SIGKILL')).toBeNull();
    gateway = await spawnGateway(configFile);
    const { controlUrl, dataUrl } = gateway;

    // 3. A person approves, with the CLI.
    const approved = await run(process.execPath, [MAIN_JS, 'approvals', 'approve', approvalId, '--comment', 'checked INV-77'], {
      env: { ...process.env, EPOCHGATE_URL: controlUrl, EPOCHGATE_TOKEN: APPROVER_SECRET },
    });
    expect(approved.stdout).toContain(`Approved ${approvalId}`);

    // 4. The agent worker "crashed"; the orchestrator resumes: epoch 2, and the approval is listed.
    const resumed = await postJson(`${controlUrl}/v1/sessions/${sessionId}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, expected_epoch: 1 });
    expect(resumed.status).toBe(200);
    expect(resumed.json.epoch).toBe(2);
    expect(resumed.json.approvals).toMatchObject([{ approval_id: approvalId, state: 'approved', rule_id: 'refunds-need-approval' }]);
    expect((await refund(dataUrl, epoch1Token)).json.code).toBe('session_stale_epoch');

    // 5. The identical call proceeds exactly once.
    const done = await refund(dataUrl, resumed.json.token);
    expect(done.status, done.text).toBe(200);
    expect(refunds()).toBe(1);
    expect(upstream.seen.at(-1)!.body).toBe(body);
    expect(upstream.seen.at(-1)!.headers['x-epochgate-epoch']).toBe('2');

    // 6. The same call again needs a new approval.
    const again = await refund(dataUrl, resumed.json.token);
    expect(again.status).toBe(403);
    expect(again.json.code).toBe('approval_required');
    expect(again.json.approval_id).not.toBe(approvalId);
    expect(refunds()).toBe(1);

    // 7. The audit stream holds request, approve, consume in order, for the same approval id.
    const records = readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, any>);
    expect(approvalTrail(records, approvalId)).toEqual([
      ['approval.request', 14],
      ['approval.approve', 8],
      ['approval.consume', 8],
    ]);
    const digests = new Set(records.filter((r) => r.unmapped.epochgate.approval_id === approvalId && r.unmapped.epochgate.event.startsWith('approval.')).map((r) => r.unmapped.epochgate.digest));
    expect(digests.size).toBe(1);
    const verified = await run(process.execPath, [MAIN_JS, 'audit', 'verify', auditFile]);
    const chains = new Set(records.map((r) => r.unmapped.epochgate.chain.uid)).size;
    const anchors = records.filter((r) => r.unmapped.epochgate.event === 'audit.anchor').length;
    expect(verified).toEqual({
      stdout: `${auditFile}: ok: ${records.length} records in ${chains} chains, ${anchors} anchors\n`,
      stderr: 'anchor signatures were not checked: give --config or --jwks\n',
    });
  });
});
