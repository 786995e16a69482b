// Hostile webhook receivers (SPEC §18, DESIGN rule 15): one that never answers, one that answers with an
// endless body, one that redirects (never followed), one that resets the connection and one that speaks no
// HTTP. Each attempt ends with a recorded outcome, nothing reaches the redirect target, and the process
// keeps serving both planes.
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession } from '../helpers/approvals.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { ADMIN_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const SECRET = 'adversarial-hook-secret-012345';
const MiB = Buffer.alloc(1024 * 1024, 0x61);

function endless(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  let sent = 0;
  res.on('error', () => {});
  const pump = (): void => {
    while (sent < 512 && !res.destroyed) {
      sent += 1;
      if (!res.write(MiB)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

let upstream: TestUpstream;
let hostile: TestUpstream;
let target: TestUpstream;
let t: TestGateway;
const held: ServerResponse[] = [];

beforeAll(async () => {
  upstream = await startUpstream();
  target = await startUpstream();
  hostile = await startUpstream((req, res) => {
    switch (req.url) {
      case '/hang':
        held.push(res);
        return;
      case '/huge':
        return endless(res);
      case '/redirect':
        res.writeHead(302, { location: `${target.url}/stolen` });
        return void res.end();
      case '/reset':
        return void req.socket.destroy();
      default:
        req.socket.end('NOT HTTP AT ALL\r\n\r\n');
    }
  });
  const names = ['hang', 'huge', 'redirect', 'reset', 'garbage'];
  const extraConfig = `notifications:\n  webhooks:\n${names.map((n) => `    - { url: "${hostile.url}/${n}", secret: "${SECRET}", events: [session.revoke] }\n`).join('')}`;
  t = await startTestGateway({ upstreamUrl: upstream.url, extraConfig, notifications: { timeoutMs: 300 } });
});
afterAll(async () => {
  for (const res of held) res.destroy();
  await t?.close();
  for (const s of [hostile, target, upstream]) await s?.close();
});

describe('hostile webhook receivers (SPEC §18)', () => {
  it('records each outcome, follows no redirect, and the gateway keeps serving', async () => {
    const s = await openSession(t.control);
    expect((await postJson(`${t.control}/v1/sessions/${s.session_id}/revoke`, {}, bearer(ADMIN_SECRET))).status).toBe(200);
    await t.gw.notifications.deliverNow();
    const byPath = Object.fromEntries(
      (await t.gw.store.notifications.list({})).map((d) => [new URL(d.url).pathname, [d.state, d.attempts, d.lastStatus, d.lastError]]),
    );
    expect(byPath['/hang']).toEqual(['pending', 1, null, 'timeout']);
    // The status is what counts: the endless body is drained to a small limit and dropped.
    expect(byPath['/huge']).toEqual(['delivered', 1, 200, null]);
    expect(byPath['/redirect']).toEqual(['pending', 1, 302, 'http_302']);
    expect(byPath['/reset']![0]).toBe('pending');
    expect(byPath['/reset']![2]).toBeNull();
    expect(byPath['/reset']![3]).toMatch(/^UND_ERR_[A-Z_]+$|^ECONNRESET$/);
    expect(byPath['/garbage']).toEqual(['pending', 1, null, 'invalid_response']);
    expect(target.seen).toEqual([]);

    expect((await call(`${t.data}/livez`)).status).toBe(200);
    const fresh = await openSession(t.control);
    expect((await call(`${t.data}/tools/billing/invoices/1`, { headers: bearer(fresh.token) })).status).toBe(200);
    expect((await call(`${t.control}/metrics`)).text).toContain('epochgate_internal_errors_total 0');
  });
});
