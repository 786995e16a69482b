// The approver console over plain HTTP: sign-in, cookies and headers, CSRF, roles and separation of duties,
// the same audit records as the API, idle timeout, admin session pages, and approval_url. What a browser
// does with the pages (live inbox, nothing from an agent runs) is in test/browser/console.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { sha256Hex } from '../../src/util/hash.js';
import { ADMIN_SECRET, APPROVER_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call } from '../helpers/client.js';
import { openSession, refund, SECOND_APPROVER_SECRET } from '../helpers/approvals.js';
import { csrfIn, postForm, setCookieLine, signIn, signInReply } from '../helpers/console.js';
import { CONSOLE_CONFIG, HOSTILE, consolePolicy, hostileCall, hostileMcpCall, hostileSession } from '../helpers/console-fixtures.js';

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const escape = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

describe('approver console over HTTP', () => {
  let upstream: TestUpstream;
  let t: TestGateway;
  const clock = new ManualClock(Date.now());
  const events = (name: string) => t.auditRecords().filter((r) => r.unmapped.epochgate.event === name);

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestGateway({ upstreamUrl: upstream.url, policy: consolePolicy(), extraConfig: CONSOLE_CONFIG, clock });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  const pending = async (): Promise<string> => {
    const s = await openSession(t.control);
    const res = await refund(t.data, s.token);
    expect(res.json.code).toBe('approval_required');
    return res.json.approval_id as string;
  };

  it('sends the strict CSP and hardening headers, and HttpOnly SameSite=Strict cookies without Secure on http', async () => {
    const page = await call(`${t.control}/console/sign-in`);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(CSP);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('same-origin');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).not.toMatch(/https?:\/\/(?!www\.w3)/);
    const signedIn = await signInReply(t.control, 'alice', APPROVER_SECRET);
    expect(signedIn.headers.location).toBe('/console/');
    expect(setCookieLine(signedIn, 'epochgate_console')).toMatch(/^epochgate_console=[A-Za-z0-9_-]{43}; Path=\/console\/; HttpOnly; SameSite=Strict$/);
    const js = await call(`${t.control}/console/assets/console.js`);
    expect([js.status, js.headers['content-type'], js.headers['content-security-policy']]).toEqual([200, 'text/javascript; charset=utf-8', CSP]);
  });

  it('refuses a wrong secret and another person\'s secret with 401, never echoing the secret, audited without an actor', async () => {
    for (const [person, secret] of [['alice', 'wrong-secret-value-123'], ['alice', SECOND_APPROVER_SECRET], ['nobody', APPROVER_SECRET]] as const) {
      const reply = await signInReply(t.control, person, secret);
      expect(reply.status).toBe(401);
      expect(reply.text).toContain('The person id or secret is not correct.');
      expect(reply.text).not.toContain(secret);
      expect(setCookieLine(reply, 'epochgate_console')).toBeUndefined();
    }
    const failed = events('console.sign_in').filter((r) => r.status_code === 'credential_invalid');
    expect(failed.length).toBeGreaterThanOrEqual(3);
    expect(failed.at(-1)!.actor).toBeUndefined();
    expect(JSON.stringify(t.auditRecords())).not.toContain(APPROVER_SECRET);
  });

  it('refuses a sign-in post without the sign-in form\'s token with 403', async () => {
    const reply = await postForm(`${t.control}/console/sign-in`, { csrf: 'x'.repeat(43), person: 'alice', secret: APPROVER_SECRET }, '');
    expect(reply.status).toBe(403);
    expect(setCookieLine(reply, 'epochgate_console')).toBeUndefined();
  });

  it('shows everything an agent controls as text, and approval_url points at the page', async () => {
    const s = await hostileSession(t.control);
    const res = await hostileCall(t.data, s.token);
    expect(res.json.code).toBe('approval_required');
    expect(res.json.approval_url).toBe(`${t.control}/console/approvals/${res.json.approval_id}`);
    const alice = await signIn(t.control, 'alice', APPROVER_SECRET);
    const page = await alice.get(`/console/approvals/${res.json.approval_id}`);
    expect(page.status).toBe(200);
    for (const text of [HOSTILE.path, HOSTILE.query, HOSTILE.task]) expect(page.text).toContain(escape(text));
    // Body and metadata are pretty-printed JSON: their string values appear JSON-escaped, then HTML-escaped.
    expect(page.text).toContain(escape(JSON.stringify(HOSTILE.body)));
    expect(page.text).toContain(escape(JSON.stringify(HOSTILE.metadata)));
    expect(page.text).not.toMatch(/<script>window|<img src=x|<svg onload|<iframe|<b id="hostile-body">/);
  });

  it('shows an MCP tool name and its arguments as text; the refusal text carries the console URL', async () => {
    const s = await hostileSession(t.control);
    const res = await hostileMcpCall(t.data, s.token);
    const problem = res.json.result._meta['io.epochgate/problem'];
    expect(problem.approval_url).toBe(`${t.control}/console/approvals/${problem.approval_id}`);
    expect(res.json.result.content[0].text).toContain(`(${problem.approval_url})`);
    const page = await (await signIn(t.control, 'alice', APPROVER_SECRET)).get(`/console/approvals/${problem.approval_id}`);
    expect(page.text).toContain(`<dt>MCP tool</dt><dd>${escape(HOSTILE.mcpTool)}</dd>`);
    expect(page.text).toContain(escape(JSON.stringify(HOSTILE.mcpArgument)));
    expect(page.text).not.toMatch(/<script>window|<img_src/);
  });

  it('refuses an approve without or with a wrong CSRF token with 403; the approval stays pending and the refusal is audited', async () => {
    const id = await pending();
    const alice = await signIn(t.control, 'alice', APPROVER_SECRET);
    expect((await alice.post(`/console/approvals/${id}/approve`, {})).status).toBe(403);
    expect((await alice.post(`/console/approvals/${id}/approve`, { csrf: 'A'.repeat(43) })).status).toBe(403);
    const other = await signIn(t.control, 'carol', SECOND_APPROVER_SECRET);
    // Another person's token does not fit this session either.
    expect((await alice.post(`/console/approvals/${id}/approve`, { csrf: await other.csrf() })).status).toBe(403);
    const view = await call(`${t.control}/v1/approvals/${id}`, { headers: bearer(ADMIN_SECRET) });
    expect(view.json.state).toBe('pending');
    const refused = events('approval.approve').filter((r) => r.unmapped.epochgate.approval_id === id);
    expect(refused.map((r) => [r.status_code, r.actor.user.uid, r.http_request.url.path])).toEqual([
      ['forbidden', 'alice', `/console/approvals/${id}/approve`],
      ['forbidden', 'alice', `/console/approvals/${id}/approve`],
      ['forbidden', 'alice', `/console/approvals/${id}/approve`],
    ]);
  });

  it('approves with a comment through the same operation and audit record as the API', async () => {
    const id = await pending();
    const alice = await signIn(t.control, 'alice', APPROVER_SECRET);
    const page = await alice.get(`/console/approvals/${id}`);
    const reply = await alice.post(`/console/approvals/${id}/approve`, { csrf: csrfIn(page.text), comment: 'ok <b>fine</b>' });
    expect([reply.status, reply.headers.location]).toEqual([303, `/console/approvals/${id}`]);
    const view = await call(`${t.control}/v1/approvals/${id}`, { headers: bearer(ADMIN_SECRET) });
    expect(view.json).toMatchObject({ state: 'approved', decided_by: 'alice', comment: 'ok <b>fine</b>' });
    const record = events('approval.approve').filter((r) => r.unmapped.epochgate.approval_id === id).at(-1)!;
    expect([record.status_code, record.disposition_id, record.actor.user]).toEqual(['ok', 8, { uid: 'alice', type: 'person' }]);
    const after = await alice.get(`/console/approvals/${id}`);
    expect(after.text).toContain('ok &lt;b&gt;fine&lt;/b&gt;');
    expect(after.text).not.toContain('id="approve"');
  });

  it('shows an admin who is not an approver no decision buttons, and refuses their forged approve (separation of duties)', async () => {
    const id = await pending();
    const admin = await signIn(t.control, 'sec-admin', ADMIN_SECRET);
    const page = await admin.get(`/console/approvals/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('id="approve"');
    expect(page.text).toContain('id="no-decision"');
    const forged = await admin.post(`/console/approvals/${id}/approve`, { csrf: csrfIn(page.text) });
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('approver role');
    expect((await call(`${t.control}/v1/approvals/${id}`, { headers: bearer(ADMIN_SECRET) })).json.state).toBe('pending');
    expect(events('approval.approve').at(-1)).toMatchObject({ status_code: 'forbidden', actor: { user: { uid: 'sec-admin', type: 'person' } } });
  });

  it('ends the session on sign-out: the old cookie is signed out on every page', async () => {
    const alice = await signIn(t.control, 'alice', APPROVER_SECRET);
    const out = await alice.post('/console/sign-out', { csrf: await alice.csrf() });
    expect([out.status, out.headers.location]).toEqual([303, '/console/sign-in']);
    expect(setCookieLine(out, 'epochgate_console')).toBe('epochgate_console=; Path=/console/; HttpOnly; SameSite=Strict; Max-Age=0');
    const again = await alice.get('/console/');
    expect([again.status, again.headers.location]).toEqual([303, '/console/sign-in']);
    expect(events('console.sign_out').at(-1)).toMatchObject({ status_code: 'ok', actor: { user: { uid: 'alice' } } });
  });

  it('signs a person out after 30 minutes without a request; each request renews the deadline', async () => {
    const alice = await signIn(t.control, 'alice', APPROVER_SECRET);
    clock.advance(29 * 60_000);
    expect((await alice.get('/console/')).status).toBe(200);
    clock.advance(29 * 60_000);
    expect((await alice.get('/console/')).status).toBe(200);
    clock.advance(30 * 60_000);
    expect((await alice.get('/console/')).headers.location).toBe('/console/sign-in');
  });

  it('signs a person out when the policy changes their credentials, and reads roles from the current policy', async () => {
    const alice = await signIn(t.control, 'alice', APPROVER_SECRET);
    const carol = await signIn(t.control, 'carol', SECOND_APPROVER_SECRET);
    const rotated = consolePolicy().replace(sha256Hex(APPROVER_SECRET), sha256Hex('rotated-secret-0123456789'));
    expect(rotated).not.toBe(consolePolicy());
    t.writePolicy(rotated);
    try {
      expect(await t.gw.reloadPolicy()).toBe(true);
      expect((await alice.get('/console/')).headers.location).toBe('/console/sign-in');
      expect((await carol.get('/console/')).status).toBe(200);
    } finally {
      t.writePolicy(consolePolicy());
      expect(await t.gw.reloadPolicy()).toBe(true);
    }
    // The old session stays ended after the secret is back: signing in again is needed.
    expect((await alice.get('/console/')).headers.location).toBe('/console/sign-in');
  });

  it('lets an admin list, filter and read sessions and revoke one with a reason; an approver gets 403', async () => {
    const s = await openSession(t.control);
    const admin = await signIn(t.control, 'sec-admin', ADMIN_SECRET);
    const list = await admin.get(`/console/sessions?state=active&agent_id=billing-bot`);
    expect(list.status).toBe(200);
    expect(list.text).toContain(s.session_id);
    const page = await admin.get(`/console/sessions/${s.session_id}`);
    const revoked = await admin.post(`/console/sessions/${s.session_id}/revoke`, { csrf: csrfIn(page.text), reason: 'leaked token' });
    expect(revoked.status).toBe(303);
    const view = await call(`${t.control}/v1/sessions/${s.session_id}`, { headers: bearer(ADMIN_SECRET) });
    expect([view.json.state, view.json.state_reason]).toEqual(['revoked', 'leaked token']);
    expect(events('session.revoke').at(-1)).toMatchObject({ status_code: 'ok', actor: { user: { uid: 'sec-admin' } } });
    const alice = await signIn(t.control, 'alice', APPROVER_SECRET);
    expect((await alice.get('/console/sessions')).status).toBe(403);
    expect((await alice.post(`/console/sessions/${s.session_id}/revoke`, { csrf: await alice.csrf(), reason: 'x' })).status).toBe(403);
  });
});

describe('console disabled (the default)', () => {
  it('answers /console/ with the API\'s 404 and puts no approval_url in approval_required', async () => {
    const upstream = await startUpstream();
    const t = await startTestGateway({ upstreamUrl: upstream.url, policy: consolePolicy() });
    try {
      const page = await call(`${t.control}/console/`);
      expect([page.status, page.json.code]).toEqual([404, 'route_not_found']);
      const s = await openSession(t.control);
      const res = await refund(t.data, s.token);
      expect(res.json.code).toBe('approval_required');
      expect(res.json.approval_url).toBeUndefined();
    } finally {
      await t.close();
      await upstream.close();
    }
  });
});
