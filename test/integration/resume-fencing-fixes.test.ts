// SPEC §5 (scope never widens on resume, not even when a removed rule comes back) and §6 step 6
// (session_suspended carries resume_required on both planes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_SECRET, defaultPolicy, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { openSession } from '../helpers/approvals.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const CRM_RULE = `  - id: crm-all
    effect: allow
    roles: [billing-agent]
    tools: [crm]
`;

describe('resume and suspension fixes (SPEC §5, §6)', () => {
  let upstream: TestUpstream;
  let t: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestGateway({ upstreamUrl: upstream.url });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  const resume = (id: string) => postJson(`${t.control}/v1/sessions/${id}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET });

  it('does not widen the scope again on a second resume after a removed rule came back', async () => {
    const s = await openSession(t.control);
    expect((s as unknown as { scope: string[] }).scope).toEqual(['billing', 'crm']);
    expect(defaultPolicy()).toContain(CRM_RULE);
    t.writePolicy(defaultPolicy().replace(CRM_RULE, ''));
    expect(await t.gw.reloadPolicy()).toBe(true);
    const first = await resume(s.session_id);
    expect(first.json.scope).toEqual(['billing']);
    t.writePolicy(defaultPolicy());
    expect(await t.gw.reloadPolicy()).toBe(true);
    const second = await resume(s.session_id);
    expect(second.status).toBe(200);
    expect(second.json.scope).toEqual(['billing']);
    const crm = await call(`${t.data}/tools/crm`, { method: 'POST', headers: { ...bearer(second.json.token), 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(crm.json.code).toBe('scope_exceeded');
  });

  it('answers a suspended session’s token with resume_required: true on both planes', async () => {
    const s = await openSession(t.control);
    expect((await postJson(`${t.control}/v1/sessions/${s.session_id}/suspend`, {}, bearer(s.token))).status).toBe(200);
    const data = await call(`${t.data}/tools/billing/invoices/1`, { headers: bearer(s.token) });
    expect(data.status).toBe(401);
    expect(data.json).toMatchObject({ code: 'session_suspended', resume_required: true });
    const control = await call(`${t.control}/v1/sessions/${s.session_id}`, { headers: bearer(s.token) });
    expect(control.status).toBe(401);
    expect(control.json).toMatchObject({ code: 'session_suspended', resume_required: true });
    const refresh = await postJson(`${t.control}/v1/sessions/${s.session_id}/token`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET });
    expect(refresh.status).toBe(409);
    expect(refresh.json).toMatchObject({ code: 'session_suspended', resume_required: true });
  });
});
