// Further hostile HTTP at the edge: conflicting framing, smuggling attempts, CONNECT and Upgrade, oversized
// and malformed heads. Each row: the exact status, nothing (or exactly the expected call) reached the tool,
// and the gateway keeps serving. Some of these are refused by Node's HTTP parser before the gateway sees
// them; the row states the status a client gets either way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { head, rawExchange } from '../helpers/raw-http.js';
import { counter, expectStillServing, openSession, startHostileGateway, type HostileGateway, type OpenSession } from '../helpers/hostile-gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

let upstream: TestUpstream;
let g: HostileGateway;
let s: OpenSession;

beforeAll(async () => {
  upstream = await startUpstream();
  g = await startHostileGateway({ upstreamUrl: upstream.url });
  s = await openSession(g.control, 'http-edge');
});
afterAll(async () => {
  await g?.close();
  await upstream?.close();
});

const auth = (): [string, string] => ['Authorization', `Bearer ${s.token}`];

interface EdgeRow {
  readonly name: string;
  readonly parts: () => string[];
  /** undefined: the connection is closed without an answer. */
  readonly status: number | undefined;
  readonly code?: string;
  readonly forwarded?: number;
}

const ROWS: EdgeRow[] = [
  { name: 'Content-Length and Transfer-Encoding together', parts: () => [head('POST', '/tools/billing/echo/x', [auth(), ['Content-Length', '5'], ['Transfer-Encoding', 'chunked']]), '0\r\n\r\n'], status: 400 },
  { name: 'two equal Content-Length headers', parts: () => [head('POST', '/tools/billing/echo/x', [auth(), ['Content-Length', '2'], ['Content-Length', '2']]), '{}'], status: 400 },
  { name: 'two different Content-Length headers', parts: () => [head('POST', '/tools/billing/echo/x', [auth(), ['Content-Length', '2'], ['Content-Length', '3']]), '{}x'], status: 400 },
  { name: 'a negative Content-Length', parts: () => [head('POST', '/tools/billing/echo/x', [auth(), ['Content-Length', '-1']])], status: 400 },
  { name: 'chunked not the last transfer coding', parts: () => [head('POST', '/tools/billing/echo/x', [auth(), ['Transfer-Encoding', 'chunked, identity']]), '0\r\n\r\n'], status: 400 },
  { name: 'a chunk size beyond any limit', parts: () => [head('POST', '/tools/billing/echo/x', [auth(), ['Transfer-Encoding', 'chunked']]), `ffffffffffffffff\r\n${'a'.repeat(70 * 1024)}`], status: 413, code: 'payload_too_large' },
  {
    name: 'a request smuggled in the body of a refused one',
    parts: () => {
      const inner = head('GET', '/tools/billing/invoices/smuggled', [auth()]);
      return [head('POST', '/tools/billing/echo/x', [['Content-Length', String(inner.length)]]) + inner];
    },
    status: 401,
    code: 'token_missing',
  },
  { name: 'duplicate Authorization headers', parts: () => [head('GET', '/tools/billing/invoices/1', [auth(), auth()])], status: 400, code: 'bad_request' },
  { name: 'duplicate Host headers', parts: () => [head('GET', '/tools/billing/invoices/1', [['Host', 'a'], ['Host', 'b'], auth()])], status: 400 },
  { name: 'a NUL in a header value', parts: () => [head('GET', '/tools/billing/invoices/1', [auth(), ['X-Evil', 'a\u0000b']])], status: 400 },
  { name: 'an obs-folded header', parts: () => [`GET /tools/billing/invoices/1 HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\nAuthorization: Bearer ${s.token}\r\n\r\n`], status: 400 },
  { name: 'a request target of 20 KiB', parts: () => [head('GET', `/tools/billing/invoices/${'a'.repeat(20 * 1024)}`, [auth()])], status: 431 },
  { name: 'CONNECT to another host', parts: () => ['CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'], status: undefined },
  { name: 'an Upgrade to websocket (forwarded as a plain call, Upgrade stripped)', parts: () => [head('GET', '/tools/billing/invoices/1', [auth(), ['Connection', 'Upgrade'], ['Upgrade', 'websocket']])], status: 200, forwarded: 1 },
  { name: 'a method no rule allows', parts: () => [head('PROPFIND', '/tools/billing/invoices/1', [auth()])], status: 403, code: 'policy_denied' },
  { name: 'a method the HTTP parser does not know', parts: () => [head('BREW', '/tools/billing/invoices/1', [auth()])], status: 400 },
];

describe('hostile HTTP at the edge', () => {
  it.each(ROWS)('$name → $status', async (row) => {
    const seen = upstream.seen.length;
    const reply = await rawExchange(g.data, row.parts(), { deadlineMs: 3_000 });
    expect(reply.status).toBe(row.status);
    if (row.code) expect(reply.json?.code).toBe(row.code);
    expect(upstream.seen.length).toBe(seen + (row.forwarded ?? 0));
    if (row.forwarded) expect(upstream.seen.at(-1)!.headers.upgrade).toBeUndefined();
    await expectStillServing(g, `after-${row.name}`);
  });

  it('counted none of it as an internal error, and wrote no token to the audit stream', async () => {
    expect(await counter(g.control, 'epochgate_internal_errors_total')).toBe(0);
    expect(g.auditText()).not.toContain(s.token);
  });
});
