// Hostile connections (SPEC §2 limits, §8): disconnects before, while and after forwarding, slow headers,
// slow bodies and a bounded connection flood on 127.0.0.1. Each row: the process keeps serving, the answer
// or the cut, what the tool saw, and that nothing counted as an internal error.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, call } from '../helpers/client.js';
import { head, openSocket, rawExchange, waitUntil } from '../helpers/raw-http.js';
import { counter, expectStillServing, openSession, startHostileGateway, type HostileGateway, type OpenSession } from '../helpers/hostile-gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

let upstream: TestUpstream;
let g: HostileGateway;
let s: OpenSession;
/** Released by a test to let the held upstream answer (or finish its body). */
let release: () => void = () => {};
/** The gateway stopped reading the held response (its client went away). */
let upstreamCut = false;

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    if (req.url === '/api/echo/crash-mid-body') {
      // The tool dies after its response started: headers and a first chunk, then the connection is cut.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part;', () => res.socket?.destroy());
      return;
    }
    if (!req.url?.startsWith('/api/echo/held')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
      return;
    }
    const gate = new Promise<void>((resolve) => (release = resolve));
    if (req.url.endsWith('/mid-body')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part;');
      res.on('close', () => (upstreamCut = !res.writableFinished));
      void gate.then(() => res.end('second part'));
    } else {
      void gate.then(() => res.end('late answer'));
    }
  });
  g = await startHostileGateway({ upstreamUrl: upstream.url, limits: '  headers_timeout_ms: 300\n  request_timeout_ms: 1500' });
  s = await openSession(g.control, 'connections');
});
afterAll(async () => {
  release();
  await g?.close();
  await upstream?.close();
});

function toolCallsFor(path: string): Record<string, any>[] {
  return g.auditRecords().filter((r) => r.api.operation === 'tool.call' && r.http_request.url.path === path);
}

describe('disconnects at every point of a call', () => {
  it.each([
    { when: 'right after the request was sent', path: '/tools/billing/invoices/gone' },
    { when: 'while the tool is working on it', path: '/tools/billing/echo/held' },
    { when: 'after the response started', path: '/tools/billing/echo/held/mid-body' },
  ])('a client that disconnects $when leaves one tool.call record and a gateway that keeps serving', async ({ path }) => {
    const seen = upstream.seen.length;
    const socket = await openSocket(g.data);
    socket.on('error', () => {});
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
    socket.write(head('GET', path, [['Authorization', `Bearer ${s.token}`]]));
    if (path.endsWith('/gone')) socket.destroy();
    else if (path.endsWith('/mid-body')) await waitUntil(() => received.includes('first part;'), 5_000);
    else await waitUntil(() => upstream.seen.length > seen, 5_000);
    socket.destroy();
    // Mid-body, the gateway stops reading the tool once its client is gone (SPEC §8): wait for that.
    if (path.endsWith('/mid-body')) await waitUntil(() => upstreamCut, 5_000);
    release();
    await waitUntil(() => toolCallsFor(path).length === 1, 5_000);
    const record = toolCallsFor(path)[0]!;
    // The gateway still waited for the tool and recorded the call (SPEC §8); a cut mid-body is said so.
    expect(['ok', 'upstream_unreachable']).toContain(record.status_code);
    // An agent that went away is audited as that, never as a tool failure after the response started.
    if (path.endsWith('/mid-body')) expect(record.unmapped.epochgate, JSON.stringify(record)).toMatchObject({ client_disconnected: true });
    expect(record.unmapped.epochgate.aborted_after_response, JSON.stringify(record)).toBeUndefined();
    await expectStillServing(g, `after-disconnect-${path}`);
  });
});

describe('a tool that fails after its response started', () => {
  it('cuts the agent off and audits aborted_after_response, not a client disconnect', async () => {
    const path = '/tools/billing/echo/crash-mid-body';
    const socket = await openSocket(g.data);
    socket.on('error', () => {});
    let received = '';
    let closed = false;
    socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
    socket.on('close', () => (closed = true));
    socket.write(head('GET', path, [['Authorization', `Bearer ${s.token}`]]));
    // SPEC §8: a truncated body must not look complete, so the gateway destroys the agent's connection.
    await waitUntil(() => closed, 5_000);
    expect(received).toContain('first part;');
    expect(received).not.toMatch(/\r\n0\r\n\r\n$/); // never a clean end of the chunked body
    await waitUntil(() => toolCallsFor(path).length === 1, 5_000);
    const record = toolCallsFor(path)[0]!;
    expect(record.unmapped.epochgate, JSON.stringify(record)).toMatchObject({ aborted_after_response: true });
    expect(record.unmapped.epochgate.client_disconnected, JSON.stringify(record)).toBeUndefined();
    await expectStillServing(g, 'after-upstream-crash-mid-body');
  });
});

describe('slow clients are cut off by the configured timeouts', () => {
  it('closes a connection whose headers do not arrive within headers_timeout_ms (408), without touching the tool', async () => {
    const seen = upstream.seen.length;
    const started = Date.now();
    const reply = await rawExchange(g.data, [`GET /tools/billing/invoices/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.token}\r\n`], { deadlineMs: 4_000 });
    expect(reply.closed).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
    if (reply.status !== undefined) expect(reply.status).toBe(408);
    expect(upstream.seen.length).toBe(seen);
  });

  it('closes the control plane too on slow headers', async () => {
    const started = Date.now();
    const reply = await rawExchange(g.control, ['POST /v1/sessions HTTP/1.1\r\nHost: x\r\n'], { deadlineMs: 4_000 });
    expect(reply.closed).toBe(true);
    // Closed by the server near headers_timeout_ms (300 ms), not by this test giving up at 4 s.
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('cuts a body that trickles past request_timeout_ms and audits bad_request, never internal_error', async () => {
    const seen = upstream.seen.length;
    const before = toolCallsFor('/tools/billing/echo/slow-body').length;
    const reply = await rawExchange(
      g.data,
      [head('POST', '/tools/billing/echo/slow-body', [['Authorization', `Bearer ${s.token}`], ['Content-Length', '100']]), '{"partial":'],
      { deadlineMs: 6_000 },
    );
    expect(reply.closed).toBe(true);
    await waitUntil(() => toolCallsFor('/tools/billing/echo/slow-body').length > before, 5_000);
    expect(toolCallsFor('/tools/billing/echo/slow-body').at(-1)!.status_code).toBe('bad_request');
    expect(upstream.seen.length).toBe(seen);
  });

  it('cuts a control-plane body that trickles past request_timeout_ms and audits bad_request', async () => {
    const created = (): Record<string, any>[] => g.auditRecords().filter((r) => r.api.operation === 'session.create');
    const before = created().length;
    const reply = await rawExchange(g.control, [head('POST', '/v1/sessions', [['Content-Length', '100']]), '{"agent_id":'], { deadlineMs: 6_000 });
    expect(reply.closed).toBe(true);
    await waitUntil(() => created().length > before, 5_000);
    expect(created().at(-1)!.status_code).toBe('bad_request');
  });

  it('never counted any of it as an internal error', async () => {
    expect(await counter(g.control, 'epochgate_internal_errors_total')).toBe(0);
  });
});

describe('a connection flood beyond max_connections', () => {
  let flood: HostileGateway;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    flood = await startHostileGateway({ upstreamUrl: upstream.url, limits: '  max_connections: 8' });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await flood?.close();
  });

  it('refuses connections past the cap at accept, keeps the other plane serving, and serves again once they go', async () => {
    const closed = new Set<Socket>();
    for (let i = 0; i < 20; i++) {
      const socket = await openSocket(flood.data);
      socket.on('error', () => {});
      socket.on('close', () => closed.add(socket));
      sockets.push(socket);
    }
    await waitUntil(() => closed.size >= 12, 5_000);
    expect(sockets.length - closed.size).toBeLessThanOrEqual(8);
    // The cap is per listener: the control plane is not starved by a flood of the data plane.
    const session = await openSession(flood.control, 'during-flood');
    for (const socket of sockets) socket.destroy();
    await waitUntil(async () => (await call(`${flood.data}/tools/billing/invoices/1`, { headers: bearer(session.token) }).catch(() => ({ status: 0 }))).status === 200, 5_000);
    expect(await counter(flood.control, 'epochgate_internal_errors_total')).toBe(0);
  });
});
