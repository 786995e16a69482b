// Per-tool upstream limits (SPEC §2): a tool's pool holds at most tools.<name>.max_connections connections
// (one agent holding them all only queues that tool's calls), and an SSE response with no bytes for
// stream_idle_timeout_ms is closed, so an idle stream cannot keep a pooled connection forever.
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, call } from '../helpers/client.js';
import { head, openSocket, waitUntil } from '../helpers/raw-http.js';
import { counter, openSession, startHostileGateway, type HostileGateway, type OpenSession } from '../helpers/hostile-gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

let upstream: TestUpstream;
let g: HostileGateway;
let s: OpenSession;
const held: (() => void)[] = [];
let streamRes: ServerResponse | undefined;
let streamClosed = false;

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    if (req.url === '/api/stream') {
      streamRes = res;
      res.on('close', () => (streamClosed = true));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      return; // then silent
    }
    const answer = (): void => void res.end('{"ok":true}');
    if (req.url?.startsWith('/api/echo/held')) held.push(answer);
    else answer();
  });
  g = await startHostileGateway({ upstreamUrl: upstream.url, billing: '    max_connections: 1\n    stream_idle_timeout_ms: 300' });
  s = await openSession(g.control, 'upstream-limits');
});
afterAll(async () => {
  for (const answer of held) answer();
  streamRes?.destroy();
  await g?.close();
  await upstream?.close();
});

describe('per-tool upstream limits', () => {
  it('keeps at most max_connections connections to the tool: a second call waits until the first is answered', async () => {
    const seen = upstream.seen.length;
    const first = call(`${g.data}/tools/billing/echo/held-1`, { headers: bearer(s.token) });
    await waitUntil(() => upstream.seen.length === seen + 1, 5_000);
    const second = call(`${g.data}/tools/billing/echo/held-2`, { headers: bearer(s.token) });
    // Bounded look: the second call must not reach the tool while the only connection is busy.
    await expect(waitUntil(() => upstream.seen.length > seen + 1, 300)).rejects.toThrow();
    held.shift()!();
    await waitUntil(() => upstream.seen.length === seen + 2, 5_000);
    held.shift()!();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
  });

  it('closes an event stream that stays silent for stream_idle_timeout_ms, and audits the cut', async () => {
    const socket = await openSocket(g.data);
    socket.on('error', () => {});
    let received = '';
    let closed = false;
    socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
    socket.on('close', () => (closed = true));
    socket.write(head('GET', '/tools/billing/stream', [['Authorization', `Bearer ${s.token}`]]));
    await waitUntil(() => received.includes('data: first'), 5_000);
    const opened = Date.now();
    await waitUntil(() => closed && streamClosed, 5_000);
    expect(Date.now() - opened).toBeLessThan(3_000);
    await waitUntil(() => g.auditRecords().some((r) => r.http_request?.url.path === '/tools/billing/stream'), 5_000);
    const record = g.auditRecords().find((r) => r.http_request?.url.path === '/tools/billing/stream')!;
    expect(record.unmapped.epochgate.aborted_after_response).toBe(true);
    expect(record.unmapped.epochgate.client_disconnected).toBeUndefined(); // the tool's silence, not the agent's
    expect(await counter(g.control, 'epochgate_internal_errors_total')).toBe(0);
  });
});
