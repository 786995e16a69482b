// SPEC §13: the lifecycle records written with a tool.call describe the same exchange, trace id included
// (they are built from one request envelope: pipeline/request-audit.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_SECRET, defaultPolicy, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream, type UpstreamHandler } from '../helpers/upstream.js';
import { bearer, postJson } from '../helpers/client.js';
import { expectValidAuditFile } from '../helpers/audit-schema.js';

const CRED = { agent_id: 'billing-bot', client_secret: AGENT_SECRET };
const traceparent = (traceId: string) => `00-${traceId}-b7ad6b7169203331-01`;
const TRACE_1 = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACE_2 = '0af7651916cd43dd8448eb211c80319c';
const TRACE_3 = 'a3ce929d0e0e47364bf92f3577b34da6';

const answer: UpstreamHandler = (req, res) => {
  const reply = () => {
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ url: req.url }));
  };
  // Slower than the tool's timeout: the gateway cannot tell whether the tool acted (ledger.unknown).
  if (req.url?.includes('slow')) setTimeout(reply, 1000);
  else reply();
};

describe('ledger records carry the trace id of their request', () => {
  let upstream: TestUpstream;
  let t: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstream(answer);
    t = await startTestGateway({ upstreamUrl: upstream.url, policy: defaultPolicy(), toolTimeoutMs: 300 });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('writes ledger.replay and ledger.unknown with the trace.uid of the tool.call they accompany', async () => {
    const created = await postJson(`${t.control}/v1/sessions`, { ...CRED, task_id: 'trace-ledger' });
    expect(created.status).toBe(201);
    const sessionId: string = created.json.session_id;
    const post = (token: string, path: string, traceId: string) =>
      postJson(`${t.data}/tools/billing${path}`, {}, { ...bearer(token), traceparent: traceparent(traceId) });

    expect((await post(created.json.token, '/invoices/a', TRACE_1)).status).toBe(201);
    expect((await post(created.json.token, '/slow', TRACE_3)).status).toBe(504);
    const resumed = await postJson(`${t.control}/v1/sessions/${sessionId}/resume`, CRED);
    expect(resumed.status).toBe(200);
    const replay = await post(resumed.json.token, '/invoices/a', TRACE_2);
    expect(replay.headers['idempotent-replayed']).toBe('true');

    const audit = expectValidAuditFile(t.auditFile).filter((r) => r.actor.session?.uid === sessionId);
    const of = (operation: string) => audit.filter((r) => r.api.operation === operation);
    expect(of('ledger.replay')).toHaveLength(1);
    expect(of('ledger.replay')[0]!.trace).toEqual({ uid: TRACE_2 });
    expect(of('ledger.unknown')).toHaveLength(1);
    expect(of('ledger.unknown')[0]!.trace).toEqual({ uid: TRACE_3 });
    // Each accompanies the tool.call of the same request, and says the same about it.
    for (const record of [...of('ledger.replay'), ...of('ledger.unknown')]) {
      const call = of('tool.call').find((r) => r.metadata.correlation_uid === record.metadata.correlation_uid);
      expect(call?.trace).toEqual(record.trace);
    }
  });
});
