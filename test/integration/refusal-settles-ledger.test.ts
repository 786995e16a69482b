// A side-effecting call refused after the ledger reserved its slot (here: approval_required) has the slot
// released BEFORE the refusal is recorded and sent (run.ts runs the finishers first). Otherwise a gateway
// killed right after answering leaves the slot in flight, and after restart the approved call would get
// outcome_unknown. Checked deterministically: at the moment of release, the request's tool.call record
// (written just before the reply) must not exist yet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { approvalPolicy, openSession, refund } from '../helpers/approvals.js';

describe('a refusal after the ledger stage', () => {
  let upstream: TestUpstream;
  let t: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestGateway({ upstreamUrl: upstream.url, policy: approvalPolicy() });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('releases the reserved ledger slot before the refusal is audited and sent', async () => {
    const s = await openSession(t.control);
    const ledger = t.gw.store.ledger;
    const release = ledger.release.bind(ledger);
    const toolCallsAtRelease: number[] = [];
    ledger.release = async (...args) => {
      toolCallsAtRelease.push(t.auditRecords().filter((r) => r.api?.operation === 'tool.call' && r.actor?.session?.uid === s.session_id).length);
      return release(...args);
    };
    try {
      const res = await refund(t.data, s.token);
      expect(res.status).toBe(403);
      expect(res.json.code).toBe('approval_required');
    } finally {
      ledger.release = release;
    }
    expect(toolCallsAtRelease).toEqual([0]);
    const entries = await t.gw.store.ledger.list(s.session_id, Date.now());
    expect(entries.filter((e) => e.state === 'in_flight')).toEqual([]);
  });
});
