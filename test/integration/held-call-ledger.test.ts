// SPEC §9 hold × §10 ledger: a call waiting for a person has not reached the tool, so it holds no ledger
// reservation while it waits (a gateway stopped mid-wait leaves no false `unknown`: e2e
// console-approval-crash); once approved it reserves again, as if it arrived then, before it consumes the
// approval and is forwarded. In-process gateway, real SQLite file, real upstream on port 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { AGENT_SECRET } from '../helpers/gateway.js';
import { approvalPolicy, decide, openSession, pendingApprovalOf, refund } from '../helpers/approvals.js';

describe('held calls and the idempotency ledger', () => {
  let upstream: TestUpstream;
  let t: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestGateway({ upstreamUrl: upstream.url, policy: approvalPolicy({ heldHold: '20s' }) });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  const reached = (path: string): number => upstream.seen.filter((r) => r.url === `/api${path}`).length;
  const ledgerOf = (sessionId: string) => t.gw.store.ledger.list(sessionId, Date.now());

  it('keeps no reservation during the hold, records the call once forwarded, and replays it after a resume', async () => {
    const s = await openSession(t.control);
    const held = refund(t.data, s.token, '/held/once');
    const approvalId = await pendingApprovalOf(t.control, s.session_id);
    await expect.poll(() => ledgerOf(s.session_id), { timeout: 10_000 }).toEqual([]);
    expect((await decide(t.control, approvalId, 'approve')).status).toBe(200);
    const answer = await held;
    expect(answer.status).toBe(200);
    expect(reached('/held/once')).toBe(1);
    const entries = await ledgerOf(s.session_id);
    expect(entries.map((e) => [e.state, e.occurrence, e.epoch, e.path])).toEqual([['completed', 1, 1, '/held/once']]);
    // After a resume the worker repeats the call: answered from the ledger, no new approval, no second call.
    const resumed = await postJson(`${t.control}/v1/sessions/${s.session_id}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET });
    const again = await refund(t.data, resumed.json.token, '/held/once');
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.text).toBe(answer.text);
    expect(reached('/held/once')).toBe(1);
  });

  it('lets two calls with one Idempotency-Key, held on one approval, reach the tool once', async () => {
    const s = await openSession(t.control);
    const keyed = () =>
      call(`${t.data}/tools/billing/held/keyed`, {
        method: 'POST', headers: { ...bearer(s.token), 'content-type': 'application/json', 'idempotency-key': 'refund-77' }, body: '{"amount":77}',
      });
    // Counts reservations let go for a hold (the live store object the gateway uses).
    const ledger = t.gw.store.ledger;
    const release = ledger.release.bind(ledger);
    let released = 0;
    ledger.release = async (...args) => ((released += 1), release(...args));
    try {
      const first = keyed();
      const approvalId = await pendingApprovalOf(t.control, s.session_id);
      // Neither holds the key while it waits, so the second is held on the same pending approval too.
      const second = keyed();
      await expect.poll(() => released, { timeout: 10_000 }).toBe(2);
      expect((await t.gw.store.approvals.listForAction(s.session_id, (await t.gw.store.approvals.get(approvalId))!.digest)).map((a) => a.approvalId)).toEqual([approvalId]);
      expect((await decide(t.control, approvalId, 'approve')).status).toBe(200);
      const answers = await Promise.all([first, second]);
      expect(reached('/held/keyed')).toBe(1);
      const forwarded = answers.filter((a) => a.status === 200 && a.headers['idempotent-replayed'] === undefined);
      expect(forwarded).toHaveLength(1);
      // The other re-reserved after the approval and met the first: still in flight (409), or recorded (replayed).
      const other = answers.find((a) => a !== forwarded[0])!;
      if (other.status === 409) expect(other.json.code).toBe('idempotency_in_progress');
      else expect([other.status, other.headers['idempotent-replayed'], other.text]).toEqual([200, 'true', forwarded[0]!.text]);
    } finally {
      ledger.release = release;
    }
  });
});
