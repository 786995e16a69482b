// The console's Origin check over real HTTP: a POST carrying another site's Origin (or "null") is refused
// with 403 before anything happens, even with the right CSRF token; one without Origin, or with the
// console's own, goes through. With console.public_url set, its origin is the only one accepted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call } from '../helpers/client.js';
import { openSession } from '../helpers/approvals.js';
import { csrfIn, form, signIn, type ConsoleClient } from '../helpers/console.js';
import { CONSOLE_CONFIG, consolePolicy } from '../helpers/console-fixtures.js';

/** Posts the revoke form with the right CSRF token and the given Origin header (none when undefined). */
async function revoke(t: TestGateway, admin: ConsoleClient, sessionId: string, origin: string | undefined) {
  const csrf = csrfIn((await admin.get(`/console/sessions/${sessionId}`)).text);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', cookie: admin.cookie };
  if (origin !== undefined) headers.origin = origin;
  return call(`${t.control}/console/sessions/${sessionId}/revoke`, { method: 'POST', headers, body: form({ csrf, reason: 'origin test' }) });
}

const stateOf = async (t: TestGateway, id: string): Promise<string> =>
  (await call(`${t.control}/v1/sessions/${id}`, { headers: bearer(ADMIN_SECRET) })).json.state as string;

describe('console Origin check (no public_url: the origin the request was served at)', () => {
  let upstream: TestUpstream;
  let t: TestGateway;
  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestGateway({ upstreamUrl: upstream.url, policy: consolePolicy(), extraConfig: CONSOLE_CONFIG });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('refuses a forged Origin and a null Origin with 403, audited, and the session stays active', async () => {
    const s = await openSession(t.control);
    const admin = await signIn(t.control, 'sec-admin', ADMIN_SECRET);
    const port = new URL(t.control).port;
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${Number(port) + 1}`, `https://127.0.0.1:${port}`]) {
      const reply = await revoke(t, admin, s.session_id, origin);
      expect([origin, reply.status]).toEqual([origin, 403]);
      expect(reply.text).toContain('The form was sent from a page of another site');
    }
    expect(await stateOf(t, s.session_id)).toBe('active');
    const refused = t.auditRecords().filter((r) => r.unmapped.epochgate.event === 'session.revoke' && r.http_request.url.path === `/console/sessions/${s.session_id}/revoke`);
    expect(refused.map((r) => r.status_code)).toEqual(['forbidden', 'forbidden', 'forbidden', 'forbidden']);
  });

  it('refuses a sign-in posted from another origin', async () => {
    const page = await call(`${t.control}/console/sign-in`);
    const key = /epochgate_console_signin=([^;]+)/.exec(String(page.headers['set-cookie']))![1]!;
    const reply = await call(`${t.control}/console/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `epochgate_console_signin=${key}`, origin: 'https://evil.example' },
      body: form({ csrf: csrfIn(page.text), person: 'sec-admin', secret: ADMIN_SECRET }),
    });
    expect(reply.status).toBe(403);
    expect(reply.headers['set-cookie']).toBeUndefined();
  });

  it('lets a POST without Origin through when the CSRF token is right', async () => {
    const s = await openSession(t.control);
    const admin = await signIn(t.control, 'sec-admin', ADMIN_SECRET);
    expect((await revoke(t, admin, s.session_id, undefined)).status).toBe(303);
    expect(await stateOf(t, s.session_id)).toBe('revoked');
  });

  it('lets a POST with the console\'s own Origin through (as a browser serialises it)', async () => {
    const s = await openSession(t.control);
    const admin = await signIn(t.control, 'sec-admin', ADMIN_SECRET);
    expect((await revoke(t, admin, s.session_id, new URL(t.control).origin)).status).toBe(303);
    expect(await stateOf(t, s.session_id)).toBe('revoked');
  });
});

describe('console Origin check with console.public_url', () => {
  it('accepts only the public URL\'s origin, not the listener\'s own', async () => {
    const upstream = await startUpstream();
    const extraConfig = 'console:\n  enabled: true\n  public_url: "https://gw.example:8443/console"\n';
    const t = await startTestGateway({ upstreamUrl: upstream.url, policy: consolePolicy(), extraConfig });
    try {
      const admin = await signIn(t.control, 'sec-admin', ADMIN_SECRET);
      const first = await openSession(t.control);
      expect((await revoke(t, admin, first.session_id, new URL(t.control).origin)).status).toBe(403);
      expect(await stateOf(t, first.session_id)).toBe('active');
      expect((await revoke(t, admin, first.session_id, 'https://gw.example:8443')).status).toBe(303);
      expect(await stateOf(t, first.session_id)).toBe('revoked');
    } finally {
      await t.close();
      await upstream.close();
    }
  });
});
