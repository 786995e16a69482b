// Hostile rows against a real gateway process (the built CLI): a worker whose call is held for approval
// while its session is revoked, resumed, suspended or closed; one session flooding its in-flight limit.
// Every row asserts the process still serves another session, the exact answer, what reached the tool
// (nothing), and that the audit stream holds no secret or token.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway, type SpawnedGateway } from '../../src/demo/spawn-gateway.js';
import { ADMIN_SECRET, AGENT_SECRET, APPROVER_SECRET, INJECTED_KEY, writeGatewayFiles } from '../helpers/gateway.js';
import { approvalPolicy, openSession, pendingApprovalOf, refund, type Session } from '../helpers/approvals.js';
import { bearer, call } from '../helpers/client.js';
import { FENCE_ACTIONS, fence } from '../helpers/fence-actions.js';
import { appendLimits, startStreamingUpstream, until, type StreamingUpstream } from '../helpers/live.js';

const LIMIT = 4;

describe('adversarial: fencing of held calls and the in-flight limit (SPEC §8, §9.4)', () => {
  let upstream: StreamingUpstream;
  let gateway: SpawnedGateway;
  let auditFile: string;
  const tokens: string[] = [];

  beforeAll(async () => {
    upstream = await startStreamingUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'epochgate-adv-fence-'));
    const files = writeGatewayFiles({ upstreamUrl: upstream.url, dir, logLevel: 'info', policy: approvalPolicy({ heldHold: '10s' }) });
    appendLimits(files.configFile, LIMIT);
    auditFile = files.auditFile;
    gateway = await spawnGateway(files.configFile);
  });
  afterAll(async () => {
    upstream.releaseSlow();
    await gateway?.stop('SIGKILL');
    await upstream.close();
  });

  const session = async (): Promise<Session> => {
    const s = await openSession(gateway.controlUrl);
    tokens.push(s.token);
    return s;
  };
  const seen = (prefix: string): number => upstream.seen.filter((r) => r.url.startsWith(prefix)).length;

  /** The process is alive and serves a session that had nothing to do with the row. */
  async function expectStillServing(): Promise<void> {
    expect(gateway.child.exitCode).toBeNull();
    const bystander = await session();
    expect((await call(`${gateway.dataUrl}/tools/billing/invoices/7`, { headers: bearer(bystander.token) })).status).toBe(200);
  }

  const rows = FENCE_ACTIONS.map(({ action, code }) => ({
    name: `held call, then ${action}`,
    action,
    code,
    // Resume and suspend keep the approval open for the resumed worker; close and revoke expire it.
    approvalState: action === 'revoke' || action === 'close' ? 'expired' : 'pending',
  }));

  for (const row of rows) {
    it(`${row.name} → 401 ${row.code} within 1.5 s, tool not called, approval ${row.approvalState}`, async () => {
      const s = await session();
      const held = refund(gateway.dataUrl, s.token, `/held/adv-${row.action}`);
      const id = await pendingApprovalOf(gateway.controlUrl, s.session_id);
      const fenced = await fence(gateway.controlUrl, row.action, s.session_id, s.token);
      expect(fenced.status).toBe(200);
      if (fenced.json?.token) tokens.push(fenced.json.token as string);
      const answeredAt = Date.now();
      const reply = await held;
      expect(Date.now() - answeredAt).toBeLessThan(1500);
      expect(reply.status).toBe(401);
      expect(reply.json.code).toBe(row.code);
      expect(reply.headers['www-authenticate']).toContain(`error_description="${row.code}"`);
      expect(seen('/api/held')).toBe(0);
      const view = await call(`${gateway.controlUrl}/v1/approvals/${id}`, { headers: bearer(APPROVER_SECRET) });
      expect(view.json.state).toBe(row.approvalState);
      await expectStillServing();
    });
  }

  it(`one session firing ${LIMIT * 5} concurrent calls → exactly ${LIMIT} reach the tool, the rest 429 with Retry-After`, async () => {
    const s = await session();
    const before = seen('/api/slow');
    let refusedSoFar = 0;
    const calls = Array.from({ length: LIMIT * 5 }, () =>
      call(`${gateway.dataUrl}/tools/billing/slow`, { headers: bearer(s.token) }).then((reply) => {
        if (reply.status === 429) refusedSoFar += 1;
        return reply;
      }),
    );
    // The refusals come back while the admitted calls still hold their slots at the tool.
    await until(() => seen('/api/slow') >= before + LIMIT && refusedSoFar === LIMIT * 4, 10_000, `${LIMIT} calls at the tool, the rest refused`);
    await expectStillServing();
    upstream.releaseSlow();
    const replies = await Promise.all(calls);
    expect(seen('/api/slow') - before).toBe(LIMIT);
    expect(replies.filter((r) => r.status === 200)).toHaveLength(LIMIT);
    const refused = replies.filter((r) => r.status === 429);
    expect(refused).toHaveLength(LIMIT * 4);
    for (const r of refused) {
      expect(r.headers['retry-after']).toBe('1');
      expect(r.json.code).toBe('too_many_requests');
    }
    // Every slot came back: the session is served again.
    expect((await call(`${gateway.dataUrl}/tools/billing/invoices/1`, { headers: bearer(s.token) })).status).toBe(200);
  });

  it('wrote no secret or token to the audit stream', async () => {
    await until(() => readFileSync(auditFile, 'utf8').includes('"too_many_requests"'), 3000, 'audit written');
    const audit = readFileSync(auditFile, 'utf8');
    for (const secret of [AGENT_SECRET, ADMIN_SECRET, APPROVER_SECRET, INJECTED_KEY, ...tokens]) expect(audit).not.toContain(secret);
  });
});
