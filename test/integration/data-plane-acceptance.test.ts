// SPEC §6: each data-plane acceptance step's failure code, in order, with proof the upstream saw nothing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { ADMIN_SECRET, AGENT_SECRET, defaultPolicy, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { baseClaims, gatewayKey, hs256WithPublicKey, rawRequest, signWithForeignKey, signWithGatewayKey, unsignedToken } from '../helpers/forge.js';

const CHALLENGE = (code: string) => `Bearer realm="epochgate", error="invalid_token", error_description="${code}"`;

describe('data plane acceptance (SPEC §6)', () => {
  let upstream: TestUpstream;
  let t: TestGateway;
  const clock = new ManualClock(Date.now());
  let taskCounter = 0;

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestGateway({ upstreamUrl: upstream.url, clock });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });
  beforeEach(() => {
    upstream.seen.length = 0;
  });

  async function session(body: Record<string, unknown> = {}) {
    const res = await postJson(`${t.control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: `task-${++taskCounter}`, ...body });
    expect(res.status).toBe(201);
    return res.json as { session_id: string; token: string; epoch: number };
  }
  const tool = (path = '/invoices/1') => `${t.data}/tools/billing${path}`;
  async function expectRefused(res: { status: number; json: any; headers: any }, status: number, code: string) {
    expect(res.status).toBe(status);
    expect(res.json.code).toBe(code);
    expect(res.json.type).toBe(`urn:epochgate:error:${code}`);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(upstream.seen).toHaveLength(0);
  }

  it('forwards an accepted call and never sends the token upstream', async () => {
    const s = await session();
    const res = await call(tool('/invoices/7?x=1'), { headers: bearer(s.token) });
    expect(res.status).toBe(200);
    expect(upstream.seen).toHaveLength(1);
    const seen = upstream.seen[0]!;
    expect(seen.url).toBe('/api/invoices/7?x=1');
    expect(seen.headers.authorization).toBeUndefined();
    expect(JSON.stringify(seen)).not.toContain(s.token);
    expect(seen.headers['x-epochgate-session']).toBe(s.session_id);
    expect(seen.headers['x-epochgate-epoch']).toBe('1');
    expect(seen.headers['x-epochgate-agent']).toBe('billing-bot');
    expect(seen.headers['x-request-id']).toBe(res.headers['x-request-id']);
  });

  it('accepts the /s/{token}/ path form and keeps the token out of the upstream request and the audit', async () => {
    const s = await session();
    const res = await call(`${t.data}/s/${s.token}/tools/billing/invoices/9`);
    expect(res.status).toBe(200);
    expect(upstream.seen[0]!.url).toBe('/api/invoices/9');
    expect(JSON.stringify(upstream.seen[0])).not.toContain(s.token);
    expect(JSON.stringify(t.auditRecords())).not.toContain(s.token);
  });

  it('answers route_not_found for an unknown tool or path, without a credential', async () => {
    await expectRefused(await call(`${t.data}/tools/nope/x`), 404, 'route_not_found');
    await expectRefused(await call(`${t.data}/elsewhere`), 404, 'route_not_found');
  });

  it.each([
    ['a .. segment', '/tools/billing/invoices/../admin'],
    ['an encoded dot segment', '/tools/billing/invoices/%2e%2e/admin'],
    ['an encoded slash', '/tools/billing/invoices%2f..%2fadmin'],
    ['an encoded backslash', '/tools/billing/invoices%5cadmin'],
    ['a NUL', '/tools/billing/invoices/%00'],
  ])('rejects %s with bad_request before any credential check', async (_name, path) => {
    const res = await rawRequest(t.data, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(res.status).toBe(400);
    expect(res.raw).toContain('"code":"bad_request"');
    expect(upstream.seen).toHaveLength(0);
  });

  it('rejects an absolute-form target with bad_request', async () => {
    const res = await rawRequest(t.data, `GET http://evil.example/tools/billing/invoices/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(res.status).toBe(400);
    expect(upstream.seen).toHaveLength(0);
  });

  it('rejects two Authorization headers, and header plus path token, with bad_request', async () => {
    const s = await session();
    const two = await rawRequest(t.data, `GET /tools/billing/invoices/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.token}\r\nAuthorization: Bearer ${s.token}\r\nConnection: close\r\n\r\n`);
    expect(two.status).toBe(400);
    await expectRefused(await call(`${t.data}/s/${s.token}/tools/billing/invoices/1`, { headers: bearer(s.token) }), 400, 'bad_request');
  });

  it('step 1: token_missing with a challenge that carries no error code', async () => {
    const res = await call(tool());
    await expectRefused(res, 401, 'token_missing');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="epochgate"');
  });

  it('step 2: refuses alg none, HS256 signed with the public key, a foreign key and garbage with token_invalid', async () => {
    const key = gatewayKey(t.dir);
    const s = await session();
    const claims = baseClaims({ sid: s.session_id });
    for (const token of [
      unsignedToken(claims, key.kid),
      hs256WithPublicKey(key, claims),
      await signWithForeignKey(claims, key.kid),
      await signWithForeignKey(claims, 'another-kid'),
      'not.a.jwt',
    ]) {
      const res = await call(tool(), { headers: bearer(token) });
      await expectRefused(res, 401, 'token_invalid');
      expect(res.headers['www-authenticate']).toBe(CHALLENGE('token_invalid'));
    }
  });

  it('step 2: refuses a token signed with the gateway\'s own key under a kid it does not hold with token_invalid (no fallback key)', async () => {
    const key = gatewayKey(t.dir);
    const s = await session();
    const claims = baseClaims({ sid: s.session_id });
    // The same claims under the real kid pass: only the kid differs between the two tokens.
    expect((await call(tool(), { headers: bearer(await signWithGatewayKey(key, claims)) })).status).toBe(200);
    upstream.seen.length = 0;
    for (const kid of ['not-a-gateway-kid', `${key.kid}x`, '']) {
      const res = await call(tool(), { headers: bearer(await signWithGatewayKey(key, { ...claims, jti: `jti_${kid}` }, { kid })) });
      await expectRefused(res, 401, 'token_invalid');
      expect(res.headers['www-authenticate']).toBe(CHALLENGE('token_invalid'));
    }
  });

  it('step 3: refuses a validly signed token with a wrong aud or iss with token_invalid', async () => {
    const key = gatewayKey(t.dir);
    const s = await session();
    for (const over of [{ aud: 'someone-else' }, { iss: 'someone-else' }, { epoch: 0 }]) {
      const token = await signWithGatewayKey(key, baseClaims({ sid: s.session_id, ...over }));
      await expectRefused(await call(tool(), { headers: bearer(token) }), 401, 'token_invalid');
    }
  });

  it('step 4: token_expired once exp has passed (beyond the 5 s leeway)', async () => {
    const s = await session();
    clock.advance(16 * 60_000);
    try {
      await expectRefused(await call(tool(), { headers: bearer(s.token) }), 401, 'token_expired');
    } finally {
      clock.advance(-16 * 60_000);
    }
  });

  it('step 5: session_unknown for a validly signed token naming no session', async () => {
    const token = await signWithGatewayKey(gatewayKey(t.dir), baseClaims({ sid: 'ses_does_not_exist' }));
    const res = await call(tool(), { headers: bearer(token) });
    await expectRefused(res, 401, 'session_unknown');
    expect(res.headers['www-authenticate']).toBe(CHALLENGE('session_unknown'));
  });

  it('step 5: session_suspended after the agent suspends, and after the lease expires', async () => {
    const asked = await session();
    expect((await postJson(`${t.control}/v1/sessions/${asked.session_id}/suspend`, {}, bearer(asked.token))).status).toBe(200);
    await expectRefused(await call(tool(), { headers: bearer(asked.token) }), 401, 'session_suspended');

    const idle = await session();
    clock.advance(5 * 60_000 + 1);
    try {
      await expectRefused(await call(tool(), { headers: bearer(idle.token) }), 401, 'session_suspended');
      const view = await call(`${t.control}/v1/sessions/${idle.session_id}`, { headers: bearer(ADMIN_SECRET) });
      expect(view.json).toMatchObject({ state: 'suspended', state_reason: 'lease_expired' });
      expect(t.auditRecords().some((r) => r.unmapped?.epochgate?.event === 'session.lease_expired' && r.actor?.session?.uid === idle.session_id)).toBe(true);
    } finally {
      clock.advance(-(5 * 60_000 + 1));
    }
  });

  it('step 5: session_closed after close, session_revoked after an admin revokes', async () => {
    const closed = await session();
    expect((await postJson(`${t.control}/v1/sessions/${closed.session_id}/close`, {}, bearer(closed.token))).status).toBe(200);
    await expectRefused(await call(tool(), { headers: bearer(closed.token) }), 401, 'session_closed');
    const revoked = await session();
    expect((await postJson(`${t.control}/v1/sessions/${revoked.session_id}/revoke`, { reason: 'test' }, bearer(ADMIN_SECRET))).status).toBe(200);
    await expectRefused(await call(tool(), { headers: bearer(revoked.token) }), 401, 'session_revoked');
  });

  it('step 6: session_stale_epoch with resume_required after a resume', async () => {
    const s = await session();
    const resumed = await postJson(`${t.control}/v1/sessions/${s.session_id}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET });
    expect(resumed.status).toBe(200);
    const res = await call(tool(), { headers: bearer(s.token) });
    await expectRefused(res, 401, 'session_stale_epoch');
    expect(res.json.resume_required).toBe(true);
    expect(res.headers['www-authenticate']).toBe(CHALLENGE('session_stale_epoch'));
    expect((await call(tool(), { headers: bearer(resumed.json.token) })).status).toBe(200);
  });

  it('step 7: agent_disabled when the agent is disabled, token_revoked after not_before moves past the token', async () => {
    const s = await session();
    t.writePolicy(defaultPolicy().replace('  billing-bot:\n', '  billing-bot:\n    enabled: false\n'));
    expect(await t.gw.reloadPolicy()).toBe(true);
    try {
      await expectRefused(await call(tool(), { headers: bearer(s.token) }), 403, 'agent_disabled');
      const future = new Date(clock.now() + 1000).toISOString();
      t.writePolicy(defaultPolicy().replace('  billing-bot:\n', `  billing-bot:\n    not_before: "${future}"\n`));
      expect(await t.gw.reloadPolicy()).toBe(true);
      await expectRefused(await call(tool(), { headers: bearer(s.token) }), 401, 'token_revoked');
    } finally {
      t.writePolicy(defaultPolicy());
      expect(await t.gw.reloadPolicy()).toBe(true);
    }
  });

  it('step 8: scope_exceeded (insufficient_scope) for a tool outside the session scope', async () => {
    const s = await session({ scope: ['billing'] });
    const res = await call(`${t.data}/tools/crm/mcp`, { headers: bearer(s.token) });
    await expectRefused(res, 403, 'scope_exceeded');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="epochgate", error="insufficient_scope", error_description="scope_exceeded"');
  });

  it('step 9: policy_denied with the deciding rule, or without one when no rule matches', async () => {
    const s = await session();
    const byRule = await call(tool('/admin/users'), { headers: bearer(s.token) });
    await expectRefused(byRule, 403, 'policy_denied');
    expect(byRule.json.rule_id).toBe('never-admin');
    const noRule = await call(tool('/unlisted'), { headers: bearer(s.token) });
    await expectRefused(noRule, 403, 'policy_denied');
    expect(noRule.json.rule_id).toBeUndefined();
  });

  it('step 9: require_approval never lets the call through', async () => {
    const s = await session();
    const res = await call(tool('/refunds'), { method: 'POST', headers: { ...bearer(s.token), 'content-type': 'application/json' }, body: '{"amount":5}' });
    await expectRefused(res, 403, 'approval_required');
    expect(res.headers['retry-after']).toBe('5');
  });

  it('refuses a body over max_body_bytes with payload_too_large', async () => {
    const s = await session();
    const res = await call(tool('/echo/big'), { method: 'POST', headers: bearer(s.token), body: Buffer.alloc(70_000, 'a') });
    await expectRefused(res, 413, 'payload_too_large');
  });

  it('writes exactly one tool.call record per request, without tokens or injected values', async () => {
    const before = t.auditRecords().filter((r) => r.api?.operation === 'tool.call').length;
    const s = await session();
    await call(tool(), { headers: bearer(s.token) });
    await call(tool('/admin/x'), { headers: bearer(s.token) });
    await call(`${t.data}/tools/nope`);
    const records = t.auditRecords();
    const calls = records.filter((r) => r.api?.operation === 'tool.call');
    expect(calls.length - before).toBe(3);
    const text = JSON.stringify(records);
    expect(text).not.toContain(s.token);
    expect(text).not.toContain('upstream-injected-key-do-not-leak');
    expect(text).not.toContain(AGENT_SECRET);
  });
});
