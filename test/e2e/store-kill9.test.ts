// Issue 8: kill -9 at the inconvenient moments, on the built CLI (npm run build first), then a restart on
// the same SQLite file. Nothing acknowledged is lost: epochs never go back, a consumed approval stays
// consumed, the side-effecting call in flight is unknown (and audited), and `audit verify` passes.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway, type SpawnedGateway } from '../../src/demo/spawn-gateway.js';
import { ADMIN_SECRET, AGENT_SECRET, APPROVER_SECRET, defaultPolicy, writeGatewayFiles } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson, type Reply } from '../helpers/client.js';
import { auditVerify } from '../helpers/serve-exit.js';

const CRED = { agent_id: 'billing-bot', client_secret: AGENT_SECRET };
const RULES = `  - id: transfers-need-approval
    effect: require_approval
    roles: [billing-agent]
    tools: [billing]
    methods: [POST]
    paths: ["/transfers"]
    side_effects: true
    approval: { approvers: [finance-approver], ttl: 1h, hold: 0s }
`;

describe('e2e: kill -9 at inconvenient moments', () => {
  let upstream: TestUpstream;
  let gateway: SpawnedGateway | undefined;
  let configFile: string;
  let auditFile: string;
  const held: (() => void)[] = [];

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      const reply = () => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      };
      if (req.url === '/api/transfers') held.push(reply);
      else reply();
    });
    const dir = mkdtempSync(join(tmpdir(), 'epochgate-e2e-kill9-'));
    ({ configFile, auditFile } = writeGatewayFiles({ upstreamUrl: upstream.url, policy: defaultPolicy(RULES), dir, logLevel: 'info', toolTimeoutMs: 20_000 }));
    gateway = await spawnGateway(configFile);
  });
  afterEach(async () => {
    const verified = await auditVerify(auditFile);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  });
  afterAll(async () => {
    for (const release of held) release();
    await gateway?.stop('SIGKILL');
    await upstream.close();
  });

  const crashAndRestart = async (): Promise<SpawnedGateway> => {
    expect(await gateway!.stop('SIGKILL')).toBeNull();
    gateway = await spawnGateway(configFile);
    return gateway;
  };
  const audit = () => readFileSync(auditFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));

  it('never loses an acknowledged resume: killed while resumes run, the epoch is at least the last one answered', async () => {
    const created = await postJson(`${gateway!.controlUrl}/v1/sessions`, { ...CRED, task_id: 'kill-during-resume' });
    const { session_id: sessionId, token: firstToken } = created.json;
    const resumeUrl = `${gateway!.controlUrl}/v1/sessions/${sessionId}/resume`;
    // Many resumes at once; the kill lands while some are committed, some in their transaction, some unread.
    const racing = Array.from({ length: 12 }, () => postJson(resumeUrl, CRED).catch((err: unknown) => err));
    const firstAnswer = await Promise.race(racing);
    expect(firstAnswer).toMatchObject({ status: 200 });
    const second = await crashAndRestart();
    const answered = (await Promise.all(racing)).filter((r): r is Reply => (r as Reply)?.status === 200);
    const highest = Math.max(...answered.map((r) => r.json.epoch as number));

    const resumed = await postJson(`${second.controlUrl}/v1/sessions/${sessionId}/resume`, CRED);
    expect(resumed.status).toBe(200);
    expect(resumed.json.epoch).toBeGreaterThan(highest);
    expect(resumed.json.epoch).toBeLessThanOrEqual(2 + racing.length);
    const shown = await call(`${second.controlUrl}/v1/sessions/${sessionId}`, { headers: bearer(ADMIN_SECRET) });
    expect(shown.json).toMatchObject({ epoch: resumed.json.epoch, resumes: resumed.json.epoch - 1 });
    // Every token handed out before the crash is fenced off now.
    for (const token of [firstToken, ...answered.map((r) => r.json.token as string)]) {
      expect((await call(`${second.dataUrl}/tools/billing/invoices/1`, { headers: bearer(token) })).json.code).toBe('session_stale_epoch');
    }
    expect((await call(`${second.dataUrl}/tools/billing/invoices/1`, { headers: bearer(resumed.json.token) })).status).toBe(201);
  });

  it('keeps a consumed approval consumed and the forwarded call unknown when killed while the tool works on it', async () => {
    const created = await postJson(`${gateway!.controlUrl}/v1/sessions`, { ...CRED, task_id: 'kill-during-consume' });
    const { session_id: sessionId, token } = created.json;
    const transfer = (g: SpawnedGateway, t: string) =>
      call(`${g.dataUrl}/tools/billing/transfers`, { method: 'POST', headers: { ...bearer(t), 'content-type': 'application/json' }, body: '{"amount":9}' });
    const asked = await transfer(gateway!, token);
    expect(asked.json.code).toBe('approval_required');
    const approvalId = asked.json.approval_id as string;
    expect((await postJson(`${gateway!.controlUrl}/v1/approvals/${approvalId}/approve`, {}, bearer(APPROVER_SECRET))).status).toBe(200);

    // The approved call consumes the approval and reaches the tool, which holds it; kill -9 now.
    const inFlight = transfer(gateway!, token).catch((err: unknown) => err);
    await waitFor(() => held.length === 1);
    const second = await crashAndRestart();
    expect(await inFlight).toBeInstanceOf(Error);

    const approval = await call(`${second.controlUrl}/v1/approvals/${approvalId}`, { headers: bearer(APPROVER_SECRET) });
    expect(approval.json).toMatchObject({ approval_id: approvalId, state: 'consumed' });
    const unknown = audit().filter((r) => r.api.operation === 'ledger.unknown');
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatchObject({ actor: { session: { uid: sessionId } } });
    expect(unknown[0].unmapped.epochgate).toMatchObject({ reason: 'gateway_restart', tool_path: '/transfers' });

    // The resumed worker repeating the call is stopped by the unknown entry: the tool is not called again.
    const resumed = await postJson(`${second.controlUrl}/v1/sessions/${sessionId}/resume`, CRED);
    expect(resumed.json.ledger.recent).toEqual([expect.objectContaining({ path: '/transfers', state: 'unknown' })]);
    const repeated = await transfer(second, resumed.json.token);
    expect(repeated.status).toBe(409);
    expect(repeated.json.code).toBe('outcome_unknown');
    expect(upstream.seen.filter((s) => s.url === '/api/transfers')).toHaveLength(1);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
