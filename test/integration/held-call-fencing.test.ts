// SPEC §9.4 and §8: a call held for approval is released within 1 s of its session being revoked, resumed,
// suspended or closed, with that session's refusal; the upstream is never called and the approval is not
// consumed. Closed and revoked sessions' open approvals expire. In-process gateway, real SQLite, real upstream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openStore } from '../../src/store/open-store.js';
import { ADMIN_SECRET } from '../helpers/gateway.js';
import { approvalPolicy, decide, openSession, pendingApprovalOf, refund } from '../helpers/approvals.js';
import { bearer, call } from '../helpers/client.js';
import { FENCE_ACTIONS, fence } from '../helpers/fence-actions.js';
import { startLiveGateway, startStreamingUpstream, type StreamingUpstream } from '../helpers/live.js';
import type { TestGateway } from '../helpers/gateway.js';

describe('held calls are fenced (SPEC §8, §9.4)', () => {
  let upstream: StreamingUpstream;
  let t: TestGateway;

  beforeAll(async () => {
    upstream = await startStreamingUpstream();
    // A long re-check interval: the release within 1 s comes from this process's own signal, except in the
    // other-replica test, which waits for the approval poll and the re-check after it.
    t = await startLiveGateway({ upstreamUrl: upstream.url, policy: approvalPolicy({ heldHold: '10s' }), liveRecheckMs: 3_600_000 });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  const heldSeen = (): number => upstream.seen.filter((r) => r.url.startsWith('/api/held')).length;
  const approval = async (id: string) => (await call(`${t.control}/v1/approvals/${id}`, { headers: bearer(ADMIN_SECRET) })).json;

  for (const { action, code } of FENCE_ACTIONS) {
    it(`releases a held call within 1 s of a ${action} with 401 ${code}, never forwards it, never consumes its approval`, async () => {
      const s = await openSession(t.control);
      const held = refund(t.data, s.token, `/held/${action}`);
      const id = await pendingApprovalOf(t.control, s.session_id);
      const fenced = await fence(t.control, action, s.session_id, s.token);
      expect(fenced.status).toBe(200);
      const answeredAt = Date.now();
      const reply = await held;
      expect(Date.now() - answeredAt).toBeLessThan(1000);
      expect(reply.status).toBe(401);
      expect(reply.json.code).toBe(code);
      if (action === 'resume' || action === 'suspend') expect(reply.json.resume_required).toBe(true);
      // An approval given now is not spent by the released call: it stays for the resumed worker.
      if (action === 'resume' || action === 'suspend') {
        expect((await decide(t.control, id, 'approve')).status).toBe(200);
        expect((await approval(id)).state).toBe('approved');
      } else {
        expect(await approval(id)).toMatchObject({ state: 'expired', expire_reason: `session_${action === 'close' ? 'closed' : 'revoked'}` });
      }
      expect(heldSeen()).toBe(0);
    });
  }

  it('re-checks a held call after the decision: a session revoked elsewhere, then approved, gets session_revoked', async () => {
    const s = await openSession(t.control);
    const held = refund(t.data, s.token, '/held/decided');
    const id = await pendingApprovalOf(t.control, s.session_id);
    // Another replica's revoke (store only: this process is not told, and re-checks only every hour here).
    const revoked = await t.gw.store.sessions.transition(s.session_id, { from: ['active'], to: 'revoked', reason: 'elsewhere', now: Date.now() });
    expect(revoked.ok).toBe(true);
    expect((await decide(t.control, id, 'approve')).status).toBe(200);
    const reply = await held;
    expect(reply.json.code).toBe('session_revoked');
    expect((await approval(id)).state).toBe('approved');
    expect(heldSeen()).toBe(0);
  });

  it('expires a closed session’s pending and approved-unconsumed approvals, audited as approval.expire', async () => {
    for (const action of ['close', 'revoke'] as const) {
      const s = await openSession(t.control);
      const first = (await refund(t.data, s.token, '/refunds', '{"n":1}')).json.approval_id as string;
      const second = (await refund(t.data, s.token, '/refunds', '{"n":2}')).json.approval_id as string;
      expect((await decide(t.control, second, 'approve')).status).toBe(200);
      expect((await fence(t.control, action, s.session_id, s.token)).status).toBe(200);
      const reason = action === 'close' ? 'session_closed' : 'session_revoked';
      for (const id of [first, second]) {
        expect(await approval(id)).toMatchObject({ state: 'expired', expire_reason: reason });
        const records = t.auditRecords().filter((r) => r.unmapped.epochgate.event === 'approval.expire' && r.unmapped.epochgate.approval_id === id);
        expect(records).toHaveLength(1);
        expect(records[0]!.unmapped.epochgate).toMatchObject({ reason, approval_state: 'expired' });
      }
    }
  });
});

describe('held calls fenced by another replica (SPEC §8, §17)', () => {
  let upstream: StreamingUpstream;
  let t: TestGateway;

  beforeAll(async () => {
    upstream = await startStreamingUpstream();
    t = await startLiveGateway({ upstreamUrl: upstream.url, policy: approvalPolicy({ heldHold: '10s' }) });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  const heldSeen = (): number => upstream.seen.filter((r) => r.url.startsWith('/api/held')).length;
  const approval = async (id: string) => (await call(`${t.control}/v1/approvals/${id}`, { headers: bearer(ADMIN_SECRET) })).json;

  it('releases a held call within 1.5 s of a revoke made by another replica (store only: the periodic re-check)', async () => {
    const s = await openSession(t.control);
    const held = refund(t.data, s.token, '/held/elsewhere');
    const id = await pendingApprovalOf(t.control, s.session_id);
    // Another replica's revoke: the store changes, this process is not told.
    const now = Date.now();
    const revoked = await t.gw.store.sessions.transition(s.session_id, { from: ['active'], to: 'revoked', reason: 'elsewhere', now });
    expect(revoked.ok).toBe(true);
    const reply = await held;
    expect(Date.now() - now).toBeLessThan(1500);
    expect(reply.json.code).toBe('session_revoked');
    expect((await approval(id)).state).toBe('pending'); // the other replica expires it; this one consumed nothing
    expect(heldSeen()).toBe(0);
  });

});

describe('approvals left open by a stopped gateway (SPEC §9.4)', () => {
  it('expires, at the next start, the open approvals of a session that ended while they stayed open', async () => {
    const upstream = await startStreamingUpstream();
    const first = await startLiveGateway({ upstreamUrl: upstream.url, policy: approvalPolicy() });
    const dir = first.dir;
    let second: TestGateway | undefined;
    try {
      const s = await openSession(first.control);
      const id = (await refund(first.data, s.token)).json.approval_id as string;
      await first.close();
      // The session ended without its approvals being expired (as if the process stopped in between).
      const store = await openStore(loadConfig(first.configFile).store);
      expect((await store.sessions.transition(s.session_id, { from: ['active'], to: 'closed', reason: 'x', now: Date.now() })).ok).toBe(true);
      await store.close();
      second = await startLiveGateway({ upstreamUrl: upstream.url, dir });
      const view = await call(`${second.control}/v1/approvals/${id}`, { headers: bearer(ADMIN_SECRET) });
      expect(view.json).toMatchObject({ state: 'expired', expire_reason: 'session_closed' });
      const expire = second.auditRecords().filter((r) => r.unmapped.epochgate.event === 'approval.expire' && r.unmapped.epochgate.approval_id === id);
      expect(expire).toHaveLength(1);
    } finally {
      await second?.close();
      await first.close();
      await upstream.close();
    }
  });
});
