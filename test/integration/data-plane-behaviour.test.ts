// Gateway-level behaviour around the acceptance steps: streaming, upstream failures, fail-closed store,
// leases, max_age, header hygiene as the upstream sees it, and draining on shutdown.
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { ManualClock } from '../../src/util/clock.js';
import { ADMIN_SECRET, AGENT_SECRET, INJECTED_KEY, defaultPolicy, startTestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { rawRequest } from '../helpers/forge.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function setup(options: { handler?: TestUpstream['handler']; clock?: ManualClock; toolTimeoutMs?: number; policy?: string; upstreamUrl?: string } = {}) {
  const upstream = await startUpstream(options.handler);
  open.push(upstream);
  const t = await startTestGateway({
    upstreamUrl: options.upstreamUrl ?? upstream.url,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.toolTimeoutMs ? { toolTimeoutMs: options.toolTimeoutMs } : {}),
    ...(options.policy ? { policy: options.policy } : {}),
  });
  open.push(t);
  const created = await postJson(`${t.control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET });
  expect(created.status).toBe(201);
  return { upstream, t, session: created.json as { session_id: string; token: string; lease_expires_at: string } };
}

const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
};

describe('data plane behaviour', () => {
  it('streams text/event-stream chunk by chunk (the first event arrives before the second is sent)', async () => {
    let sendSecond!: () => void;
    const second = new Promise<void>((resolve) => (sendSecond = resolve));
    const { t, session } = await setup({
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: one\n\n');
        void second.then(() => res.end('data: two\n\n'));
      },
    });
    const res = await request(`${t.data}/tools/billing/stream`, { headers: bearer(session.token) });
    expect(res.statusCode).toBe(200);
    const reader = res.body[Symbol.asyncIterator]();
    const first = await reader.next();
    expect(String(first.value)).toBe('data: one\n\n');
    sendSecond();
    let rest = '';
    for (let chunk = await reader.next(); !chunk.done; chunk = await reader.next()) rest += String(chunk.value);
    expect(rest).toBe('data: two\n\n');
  });

  it('answers upstream_timeout (504) when the tool sends no headers within timeout_ms', async () => {
    const { t, session } = await setup({ handler: () => {}, toolTimeoutMs: 300 });
    const res = await call(`${t.data}/tools/billing/slow`, { headers: bearer(session.token) });
    expect(res.status).toBe(504);
    expect(res.json.code).toBe('upstream_timeout');
  });

  it('answers upstream_unreachable (502) when the tool refuses the connection', async () => {
    const { t, session } = await setup({ upstreamUrl: `http://127.0.0.1:${await closedPort()}` });
    const res = await call(`${t.data}/tools/billing/invoices/1`, { headers: bearer(session.token) });
    expect(res.status).toBe(502);
    expect(res.json.code).toBe('upstream_unreachable');
  });

  it('fails closed with 503 store_unavailable and Retry-After when the store stops answering', async () => {
    const { t, upstream, session } = await setup();
    await t.gw.store.close();
    const res = await call(`${t.data}/tools/billing/invoices/1`, { headers: bearer(session.token) });
    expect(res.status).toBe(503);
    expect(res.json.code).toBe('store_unavailable');
    expect(res.headers['retry-after']).toBe('1');
    expect(upstream.seen).toHaveLength(0);
    expect((await call(`${t.data}/readyz`)).status).toBe(503);
    const create = await postJson(`${t.control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: 'x' });
    expect(create.status).toBe(503);
  });

  it('renews the lease only when less than half of it remains (an ordinary call writes nothing)', async () => {
    const clock = new ManualClock(Date.now());
    const { t, session } = await setup({ clock });
    const view = async () => (await call(`${t.control}/v1/sessions/${session.session_id}`, { headers: bearer(ADMIN_SECRET) })).json;
    const before = await view();
    clock.advance(60_000);
    expect((await call(`${t.data}/tools/billing/invoices/1`, { headers: bearer(session.token) })).status).toBe(200);
    expect((await view()).lease_expires_at).toBe(before.lease_expires_at);
    clock.advance(120_000); // 3 of 5 minutes gone: less than half remains
    expect((await call(`${t.data}/tools/billing/invoices/1`, { headers: bearer(session.token) })).status).toBe(200);
    expect(Date.parse((await view()).lease_expires_at)).toBe(clock.now() + 5 * 60_000);
  });

  it('closes a session past max_age on access (401 session_closed, 409 on resume) and audits it', async () => {
    const clock = new ManualClock(Date.now());
    const { t, session } = await setup({ clock, policy: `${defaultPolicy()}sessions:\n  max_age: 10m\n  lease_ttl: 20m\n` });
    clock.advance(11 * 60_000);
    const res = await call(`${t.data}/tools/billing/invoices/1`, { headers: bearer(session.token) });
    expect(res.status).toBe(401);
    expect(res.json.code).toBe('session_closed');
    const resume = await postJson(`${t.control}/v1/sessions/${session.session_id}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET });
    expect(resume.status).toBe(409);
    expect(resume.json.code).toBe('session_closed');
    expect(t.auditRecords().some((r) => r.api?.operation === 'session.close' && r.unmapped?.epochgate?.reason === 'max_age')).toBe(true);
  });

  it('strips credentials, cookies and spoofed gateway headers, then injects the tool headers', async () => {
    const { t, upstream, session } = await setup();
    const res = await call(`${t.data}/tools/billing/invoices/1`, {
      headers: {
        ...bearer(session.token),
        cookie: 'sid=agent-cookie',
        'proxy-authorization': 'Basic Zm9vOmJhcg==',
        dpop: 'proof',
        'x-epochgate-epoch': '99',
        'x-forwarded-for': '10.9.9.9',
        'x-request-id': 'spoofed',
        'x-api-key': 'agent-chosen',
        x_underscore: 'smuggled',
      },
    });
    expect(res.status).toBe(200);
    const seen = upstream.seen[0]!.headers;
    for (const name of ['authorization', 'cookie', 'proxy-authorization', 'dpop', 'x_underscore']) expect(seen[name], name).toBeUndefined();
    expect(seen['x-epochgate-epoch']).toBe('1');
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-request-id']).toBe(res.headers['x-request-id']);
    expect(seen['x-api-key']).toBe(INJECTED_KEY);
    expect(seen.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(JSON.stringify(res.headers)).not.toContain(INJECTED_KEY);

    // Headers named in Connection are hop-by-hop (RFC 9110 §7.6.1); sent raw so no client rewrites them.
    const raw = await rawRequest(t.data, `GET /tools/billing/invoices/2 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${session.token}\r\nConnection: close, x-hop\r\nX-Hop: hop-value\r\n\r\n`);
    expect(raw.status).toBe(200);
    expect(upstream.seen[1]!.headers['x-hop']).toBeUndefined();
  });

  it('lets in-flight requests finish when the gateway shuts down', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const { t, session } = await setup({
      handler: (_req, res) => {
        arrived();
        void held.then(() => res.end('{"done":true}'));
      },
    });
    const inFlight = call(`${t.data}/tools/billing/invoices/1`, { headers: bearer(session.token) });
    await arrival;
    const closing = t.gw.close(5000);
    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ done: true });
    await closing;
    // SPEC §13 "Anchors": the stop anchor follows gateway.stop.
    expect(t.auditRecords().map((r) => r.api.operation).slice(-2)).toEqual(['gateway.stop', 'audit.anchor']);
  });
});
