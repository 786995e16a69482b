// Hostile inputs on the console, POST /v1/keys/{kid}/retire and GET /v1/notifications. Each row: the exact
// status and error code (for console pages: the catalogue title in the page and, for actions, the audit
// record's code), nothing changed (the approval stays pending, the session active), and the gateway keeps
// answering. Rows already covered by test/integration/console*.test.ts are not repeated here.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CATALOGUE, type ErrorCode } from '../../src/errors/catalogue.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { ADMIN_SECRET, AGENT_SECRET, APPROVER_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson, type Reply } from '../helpers/client.js';
import { openSession, type Session } from '../helpers/approvals.js';
import { form, signIn, type ConsoleClient } from '../helpers/console.js';
import { CONSOLE_CONFIG, consolePolicy, hostileCall } from '../helpers/console-fixtures.js';
import { head, rawExchange } from '../helpers/raw-http.js';

let upstream: TestUpstream;
let t: TestGateway;
let admin: ConsoleClient;
let alice: ConsoleClient;
let session: Session;
let approvalId: string;

beforeAll(async () => {
  upstream = await startUpstream();
  t = await startTestGateway({ upstreamUrl: upstream.url, policy: consolePolicy(), extraConfig: CONSOLE_CONFIG });
  admin = await signIn(t.control, 'sec-admin', ADMIN_SECRET);
  alice = await signIn(t.control, 'alice', APPROVER_SECRET);
  session = await openSession(t.control);
  const held = await hostileCall(t.data, session.token);
  expect([held.status, held.json.code]).toEqual([403, 'approval_required']);
  approvalId = held.json.approval_id as string;
});
afterAll(async () => {
  await t?.close();
  await upstream?.close();
});

/** A console error page names its code by the catalogue title (the page is HTML, not problem+json). */
function expectPage(reply: { status: number | undefined; text?: string; body?: string }, code: ErrorCode): void {
  const text = reply.text ?? reply.body ?? '';
  expect([reply.status, text.includes(`<h1>${CATALOGUE[code].title}</h1>`)]).toEqual([CATALOGUE[code].status, true]);
}

const post = (path: string, body: string, headers: Record<string, string> = {}): Promise<Reply> =>
  call(`${t.control}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });

async function expectNothingChanged(): Promise<void> {
  const approval = await call(`${t.control}/v1/approvals/${approvalId}`, { headers: bearer(APPROVER_SECRET) });
  const s = await call(`${t.control}/v1/sessions/${session.session_id}`, { headers: bearer(ADMIN_SECRET) });
  expect([approval.json.state, s.json.state]).toEqual(['pending', 'active']);
}

interface FormRow {
  readonly name: string;
  readonly send: () => Promise<Reply>;
  readonly code: ErrorCode;
}

const approve = () => `/console/approvals/${approvalId}/approve`;
const revoke = () => `/console/sessions/${session.session_id}/revoke`;

const FORM_ROWS: FormRow[] = [
  { name: 'the csrf field given twice', send: async () => post(approve(), `csrf=${await alice.csrf()}&csrf=${await alice.csrf()}`, { cookie: alice.cookie }), code: 'invalid_request' },
  { name: 'an unknown form field', send: async () => post(approve(), form({ csrf: await alice.csrf(), approver: 'bob' }), { cookie: alice.cookie }), code: 'invalid_request' },
  { name: 'a field named __proto__', send: async () => post(approve(), `csrf=${encodeURIComponent(await alice.csrf())}&__proto__=x`, { cookie: alice.cookie }), code: 'invalid_request' },
  { name: 'a comment over 1000 characters', send: async () => post(approve(), form({ csrf: await alice.csrf(), comment: 'c'.repeat(1001) }), { cookie: alice.cookie }), code: 'invalid_request' },
  { name: 'a revoke reason over 500 characters', send: async () => post(revoke(), form({ csrf: await admin.csrf(), reason: 'r'.repeat(501) }), { cookie: admin.cookie }), code: 'invalid_request' },
  { name: 'a form body over 64 KiB', send: async () => post(revoke(), form({ csrf: await admin.csrf(), reason: 'r'.repeat(70 * 1024) }), { cookie: admin.cookie }), code: 'payload_too_large' },
  { name: 'a JSON body instead of a form', send: async () => post(approve(), JSON.stringify({ csrf: await alice.csrf() }), { cookie: alice.cookie, 'content-type': 'application/json' }), code: 'invalid_request' },
  { name: 'a forged session cookie of our format', send: async () => post(approve(), form({ csrf: await alice.csrf() }), { cookie: `epochgate_console=${'A'.repeat(43)}` }), code: 'token_missing' },
  { name: 'no cookie at all', send: async () => post(approve(), form({ csrf: await alice.csrf() })), code: 'token_missing' },
  { name: 'the session cookie given twice (fails closed)', send: async () => post(approve(), form({ csrf: await alice.csrf() }), { cookie: `${alice.cookie}; ${alice.cookie}` }), code: 'token_missing' },
  { name: 'a cookie value with characters we never mint', send: async () => post(approve(), form({ csrf: await alice.csrf() }), { cookie: `epochgate_console=${alice.cookie.split('=')[1]}%00` }), code: 'token_missing' },
  { name: "another person's cookie with alice's CSRF token", send: async () => post(revoke(), form({ csrf: await alice.csrf(), reason: 'x' }), { cookie: admin.cookie }), code: 'forbidden' },
  { name: 'an Origin in upper case', send: async () => post(approve(), form({ csrf: await alice.csrf() }), { cookie: alice.cookie, origin: t.control.toUpperCase() }), code: 'forbidden' },
  { name: 'an Origin with a trailing slash', send: async () => post(approve(), form({ csrf: await alice.csrf() }), { cookie: alice.cookie, origin: `${t.control}/` }), code: 'forbidden' },
  { name: 'an Origin with a path', send: async () => post(approve(), form({ csrf: await alice.csrf() }), { cookie: alice.cookie, origin: `${t.control}/console` }), code: 'forbidden' },
  { name: 'a 4 KiB Host with a matching Origin still needs the CSRF token', send: async () => post(approve(), form({}), { cookie: alice.cookie, host: `${'h'.repeat(4096)}`, origin: `http://${'h'.repeat(4096)}` }), code: 'forbidden' },
];

describe('console forms: hostile fields, cookies and Origins', () => {
  for (const row of FORM_ROWS) {
    it(`refuses ${row.name}: ${row.code}, audited, nothing changed`, async () => {
      const before = t.auditRecords().length;
      const reply = await row.send();
      expectPage(reply, row.code);
      const records = t.auditRecords().slice(before).filter((r) => r.http_request?.url?.path?.startsWith('/console/'));
      expect(records.map((r) => r.status_code)).toEqual([row.code]);
      await expectNothingChanged();
    });
  }

  it('refuses two Origin headers, even both the console\'s own, with 403 forbidden', async () => {
    const csrf = await alice.csrf();
    const body = form({ csrf });
    const port = new URL(t.control).port;
    const reply = await rawExchange(t.control, [
      head('POST', approve(), [['Host', `127.0.0.1:${port}`], ['Cookie', alice.cookie], ['Content-Type', 'application/x-www-form-urlencoded'], ['Origin', t.control], ['Origin', t.control], ['Content-Length', String(body.length)], ['Connection', 'close']]) + body,
    ]);
    expectPage(reply, 'forbidden');
    await expectNothingChanged();
  });
});

describe('console refusals the integration tests check by status only', () => {
  it('answers an approver 403 forbidden on the admin-only session list', async () => {
    expectPage(await alice.get('/console/sessions'), 'forbidden');
  });

  it('answers a sign-in without its form token 403 forbidden, audited, setting no session cookie', async () => {
    const before = t.auditRecords().length;
    const reply = await post('/console/sign-in', form({ person: 'sec-admin', secret: ADMIN_SECRET }));
    expectPage(reply, 'forbidden');
    expect(String(reply.headers['set-cookie'] ?? '')).not.toContain('epochgate_console=');
    expect(reply.text).not.toContain(ADMIN_SECRET);
    expect(t.auditRecords().slice(before).map((r) => [r.api?.operation, r.status_code])).toEqual([['console.sign_in', 'forbidden']]);
  });
});

describe('console paths: traversal and oversized ids', () => {
  const ROWS: [string, number, ErrorCode][] = [
    ['/console/approvals/../sessions', 400, 'bad_request'],
    ['/console/approvals/./x', 400, 'bad_request'],
    ['/console/approvals\\..\\sessions', 400, 'bad_request'],
    ['/console/approvals/..%2F..%2Fv1%2Fpolicy', 404, 'route_not_found'],
    ['/console/sessions/%2e%2e', 400, 'bad_request'],
    ['/console/../v1/policy', 400, 'bad_request'],
    [`/console/sessions/${'s'.repeat(101)}`, 404, 'route_not_found'],
    ['/console/approvals/apr_does_not_exist', 404, 'approval_not_found'],
    ['/console/sessions/ses_does_not_exist', 404, 'session_not_found'],
  ];
  for (const [path, status, code] of ROWS) {
    it(`answers GET ${path.slice(0, 60)} with ${status} ${code}`, async () => {
      const reply = await rawExchange(t.control, [head('GET', path, [['Cookie', admin.cookie], ['Connection', 'close']])]);
      expect(reply.status).toBe(status);
      expectPage(reply, code);
    });
  }

  it('refuses a revoke posted to a dot-segment path with 400 bad_request, audited, without changing the session', async () => {
    const before = t.auditRecords().length;
    const body = form({ csrf: await admin.csrf(), reason: 'x' });
    const path = `/console/sessions/${session.session_id}/../${session.session_id}/revoke`;
    const reply = await rawExchange(t.control, [head('POST', path, [['Cookie', admin.cookie], ['Content-Type', 'application/x-www-form-urlencoded'], ['Content-Length', String(body.length)], ['Connection', 'close']]) + body]);
    expectPage(reply, 'bad_request');
    expect(t.auditRecords().slice(before).map((r) => [r.api?.operation, r.status_code])).toEqual([['session.revoke', 'bad_request']]);
    await expectNothingChanged();
  });
});

describe('console while the store does not answer', () => {
  it('answers 503 store_unavailable with Retry-After, like the API', async () => {
    const touch = vi.spyOn(t.gw.store.consoleSessions, 'touch').mockRejectedValueOnce(new GatewayError('store_unavailable'));
    const reply = await admin.get('/console/');
    touch.mockRestore();
    expectPage(reply, 'store_unavailable');
    expect(reply.headers['retry-after']).toBe('1');
    expect((await admin.get('/console/')).status).toBe(200);
  });
});

describe('POST /v1/keys/{kid}/retire: hostile kids', () => {
  const KIDS: [string, string][] = [
    ['a kid of 129 characters', 'k'.repeat(129)],
    ['a kid of 20 KiB', 'k'.repeat(20 * 1024)],
    ['a percent-encoded kid', '%41%42%43'],
    ['a dot-dot kid', '..'],
    ['an encoded slash', 'a%2Fb'],
  ];
  for (const [name, kid] of KIDS) {
    it(`answers ${name} with 404 route_not_found and retires nothing`, async () => {
      const reply = await rawExchange(t.control, [head('POST', `/v1/keys/${kid}/retire`, [['Authorization', `Bearer ${ADMIN_SECRET}`], ['Content-Type', 'application/json'], ['Content-Length', '2'], ['Connection', 'close']]) + '{}']);
      // Node's parser refuses a head over 16 KiB with a bare 431 before the gateway sees it.
      if (kid.length > 16 * 1024) expect(reply.status).toBe(431);
      else expect([reply.status, reply.json?.code]).toEqual([404, 'route_not_found']);
      // The signing key still signs: nothing was retired.
      const created = await postJson(`${t.control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: `kid-${name}` });
      expect(created.status).toBe(201);
    });
  }
});

describe('GET /v1/notifications: hostile query strings', () => {
  const ROWS: [string, number, string | null][] = [
    ['?limit=99999999', 400, 'invalid_request'],
    ['?state=pending&state=bogus', 400, 'invalid_request'],
    ['?state=%3Cscript%3E', 400, 'invalid_request'],
    [`?state=${'x'.repeat(8 * 1024)}`, 400, 'invalid_request'],
    ['?__proto__=x', 400, 'invalid_request'],
  ];
  it('answers an approver 403 forbidden and no credential 401 token_missing with the bare challenge', async () => {
    const approver = await call(`${t.control}/v1/notifications`, { headers: bearer(APPROVER_SECRET) });
    const none = await call(`${t.control}/v1/notifications`);
    expect([approver.status, approver.json.code, none.status, none.json.code]).toEqual([403, 'forbidden', 401, 'token_missing']);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="epochgate"');
  });
  for (const [query, status, code] of ROWS) {
    it(`answers ${query.slice(0, 40)} with ${status} ${code}`, async () => {
      const reply = await call(`${t.control}/v1/notifications${query}`, { headers: bearer(ADMIN_SECRET) });
      expect([reply.status, reply.json.code]).toEqual([status, code]);
      expect(reply.text).not.toContain('<script>');
    });
  }
});
