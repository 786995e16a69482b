// Deeply nested and huge JSON on every JSON input the gateway parses (SPEC §8), and every spelling of the
// token path form in requests that do not route (SPEC §13 redaction). Each row: the exact answer, what the
// tool received, the audited code, and no token anywhere in the audit stream or the operational log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_SECRET, INJECTED_KEY } from '../helpers/gateway.js';
import { bearer, call } from '../helpers/client.js';
import { head, rawExchange } from '../helpers/raw-http.js';
import { counter, expectStillServing, openSession, startHostileGateway, type HostileGateway, type OpenSession } from '../helpers/hostile-gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

let upstream: TestUpstream;
let g: HostileGateway;
let s: OpenSession;

beforeAll(async () => {
  upstream = await startUpstream();
  g = await startHostileGateway({ upstreamUrl: upstream.url, maxBodyBytes: 1024 * 1024 });
  s = await openSession(g.control, 'json-and-paths');
});
afterAll(async () => {
  await g?.close();
  await upstream?.close();
});

/** `depth` nested containers (an object at every level), innermost holding a string. */
const nested = (depth: number): string => '{"a":'.repeat(depth - 1) + '{"a":"x"}' + '}'.repeat(depth - 1);
const deepArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const mcp = (params: string): string => `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":${params}}`;

interface JsonRow {
  readonly name: string;
  readonly url: () => string;
  readonly body: string | Buffer;
  readonly headers?: () => Record<string, string>;
  readonly status: number;
  readonly code: string | undefined;
  /** The tool is called (an opaque body is forwarded as bytes). */
  readonly forwarded?: boolean;
}

const auth = (): Record<string, string> => bearer(s.token);
const secretBody = (extra: string): string => `{"agent_id":"billing-bot","client_secret":"${AGENT_SECRET}","task_id":"deep-${extra.length}","metadata":${extra}}`;

const JSON_ROWS: JsonRow[] = [
  { name: 'control: session create metadata 65 levels deep', url: () => `${g.control}/v1/sessions`, body: secretBody(nested(64)), status: 400, code: 'invalid_request' },
  { name: 'control: 100 000 nested arrays', url: () => `${g.control}/v1/sessions`, body: deepArray(100_000), status: 400, code: 'invalid_request' },
  { name: 'control: checkpoint state 200 levels deep', url: () => `${g.control}/v1/sessions/${s.sessionId}/checkpoints`, headers: auth, body: `{"state":${nested(200)}}`, status: 400, code: 'invalid_request' },
  { name: 'control: checkpoint state within the depth limit', url: () => `${g.control}/v1/sessions/${s.sessionId}/checkpoints`, headers: auth, body: `{"state":${nested(63)}}`, status: 201, code: undefined },
  { name: 'control: a body over 1 MiB', url: () => `${g.control}/v1/sessions`, body: `{"pad":"${'x'.repeat(1024 * 1024)}"}`, status: 413, code: 'payload_too_large' },
  { name: 'control: 900 KiB of JSON under the limit', url: () => `${g.control}/v1/sessions`, body: `{"pad":[${Array(150_000).fill('1').join(',')}]}`, status: 400, code: 'invalid_request' },
  { name: 'MCP message with arguments 100 levels deep', url: () => `${g.data}/tools/crm/`, headers: auth, body: mcp(`{"name":"search_x","arguments":${nested(100)}}`), status: 400, code: 'bad_request' },
  { name: 'MCP message of 100 000 nested arrays', url: () => `${g.data}/tools/crm/`, headers: auth, body: deepArray(100_000), status: 400, code: 'bad_request' },
  { name: 'MCP message 64 levels deep is forwarded', url: () => `${g.data}/tools/crm/`, headers: auth, body: mcp(`{"name":"search_x","arguments":${nested(62)}}`), status: 200, code: undefined, forwarded: true },
  // SPEC §11 parser differentials: what the gateway authorises must be what the tool runs, so any body two
  // parsers could read differently is refused before a byte reaches the tool.
  { name: 'MCP tools/call with a duplicate name', url: () => `${g.data}/tools/crm/`, headers: auth, body: mcp('{"name":"search_x","name":"delete_all","arguments":{}}'), status: 400, code: 'bad_request' },
  { name: 'MCP message with a duplicate method', url: () => `${g.data}/tools/crm/`, headers: auth, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"delete_all"}}', status: 400, code: 'bad_request' },
  { name: 'MCP message with a duplicate member deep in arguments', url: () => `${g.data}/tools/crm/`, headers: auth, body: mcp('{"name":"search_x","arguments":{"q":{"a":1,"a":2}}}'), status: 400, code: 'bad_request' },
  { name: 'MCP JSON-RPC batch', url: () => `${g.data}/tools/crm/`, headers: auth, body: `[${mcp('{"name":"search_x"}')}]`, status: 400, code: 'bad_request' },
  { name: 'MCP message that is not JSON-RPC 2.0', url: () => `${g.data}/tools/crm/`, headers: auth, body: '{"id":1,"method":"tools/call","params":{"name":"search_x"}}', status: 400, code: 'bad_request' },
  { name: 'MCP message with invalid UTF-8', url: () => `${g.data}/tools/crm/`, headers: auth, body: Buffer.concat([Buffer.from(mcp('{"name":"search_')), Buffer.from([0xc3, 0x28]), Buffer.from('"}}')]), status: 400, code: 'bad_request' },
  { name: 'MCP 2026-07-28 Mcp-Name disagreeing with the body', url: () => `${g.data}/tools/crm/`, headers: () => ({ ...auth(), 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'search_x' }), body: mcp('{"name":"delete_all","arguments":{}}'), status: 400, code: 'bad_request' },
  { name: 'JSON body canonicalised for an approval digest, 100 levels deep', url: () => `${g.data}/tools/billing/refunds`, headers: auth, body: nested(100), status: 400, code: 'bad_request' },
  { name: 'JSON body canonicalised for a ledger fingerprint, 100 levels deep', url: () => `${g.data}/tools/billing/echo/side-effect`, headers: auth, body: nested(100), status: 400, code: 'bad_request' },
  { name: 'JSON body with an Idempotency-Key, 100 levels deep', url: () => `${g.data}/tools/billing/echo/keyed`, headers: () => ({ ...auth(), 'idempotency-key': 'k-1' }), body: nested(100), status: 400, code: 'bad_request' },
  { name: 'deep bytes the gateway does not parse are forwarded opaque', url: () => `${g.data}/tools/billing/echo/opaque`, headers: () => ({ ...auth(), 'content-type': 'text/plain' }), body: deepArray(10_000), status: 200, code: undefined, forwarded: true },
];

describe('deeply nested and huge JSON', () => {
  it.each(JSON_ROWS)('$name → $status $code', async (row) => {
    const seen = upstream.seen.length;
    const reply = await call(row.url(), { method: 'POST', headers: { 'content-type': 'application/json', ...(row.headers?.() ?? {}) }, body: row.body });
    expect(reply.status).toBe(row.status);
    expect(reply.json?.code).toBe(row.code);
    expect(upstream.seen.length).toBe(seen + (row.forwarded ? 1 : 0));
    await expectStillServing(g, `after-json-${JSON_ROWS.indexOf(row)}`);
  });

  it('counted none of it as a store or internal error', async () => {
    expect(await counter(g.control, 'epochgate_store_errors_total')).toBe(0);
    expect(await counter(g.control, 'epochgate_internal_errors_total')).toBe(0);
  });
});

describe('the token path form in requests that do not route', () => {
  // Each spelling a client (or a confused agent) might send; T is replaced by the session token.
  const TARGETS: { target: string; status: number; code: string }[] = [
    { target: '//s/T/tools/billing/invoices/1', status: 400, code: 'bad_request' },
    { target: '/S/T/tools/billing/invoices/1', status: 404, code: 'route_not_found' },
    { target: '/s/T', status: 404, code: 'route_not_found' },
    { target: '/s/T/', status: 404, code: 'route_not_found' },
    { target: '/s/T/tools/nope/x', status: 404, code: 'route_not_found' },
    { target: '/s/T/tool/billing/x', status: 404, code: 'route_not_found' },
    { target: '/s;x/T/tools/billing/x', status: 404, code: 'route_not_found' },
    { target: '/%2Fs/T/tools/billing/x', status: 400, code: 'bad_request' },
    { target: '/s%2FT/tools/billing/x', status: 400, code: 'bad_request' },
    { target: '/T/tools/billing/x', status: 404, code: 'route_not_found' },
    { target: '/%65T/tools/billing/x', status: 404, code: 'route_not_found' },
    { target: '/T;x', status: 404, code: 'route_not_found' },
    { target: '/x/y/T', status: 404, code: 'route_not_found' },
    { target: '/nope?t=T', status: 404, code: 'route_not_found' },
    { target: '/?access_token=T', status: 404, code: 'route_not_found' },
    { target: '/s/T/tools/billing/..;/admin', status: 400, code: 'bad_request' },
    { target: '/s/T/tools/billing/%2e%2e;x/admin', status: 400, code: 'bad_request' },
    { target: '/s/T/tools/billing/a%2fb?x=T', status: 400, code: 'bad_request' },
    { target: '/s/T/tools/billing/a%00b', status: 400, code: 'bad_request' },
    { target: '/s/T/../tools/billing/x', status: 400, code: 'bad_request' },
    { target: 'http://127.0.0.1/s/T/tools/billing/invoices/1', status: 400, code: 'bad_request' },
  ];

  it.each(TARGETS)('$target → $status $code, and the token is nowhere in the audit stream or the log', async ({ target, status, code }) => {
    const seen = upstream.seen.length;
    const reply = await rawExchange(g.data, [head('GET', target.replaceAll('T', s.token), [['Connection', 'close']])]);
    expect(reply.status).toBe(status);
    expect(reply.json?.code).toBe(code);
    expect(upstream.seen.length).toBe(seen);
    expectNoToken();
  });

  it('routes the percent-encoded s like the plain one, and audits no token', async () => {
    const reply = await rawExchange(g.data, [head('GET', `/%73/${s.token}/tools/billing/invoices/1`, [['Connection', 'close']])]);
    expect(reply.status).toBe(200);
    expect(upstream.seen.at(-1)!.url).toBe('/api/invoices/1');
    expectNoToken();
  });

  it.each([
    { where: 'below the tool', target: () => `/tools/billing/invoices/${s.token}` },
    { where: 'inside a segment below the tool', target: () => `/tools/billing/invoices/x${s.token}y` },
    { where: 'in the query', target: () => `/tools/billing/invoices/1?t=${s.token}` },
    { where: 'percent-encoded in the query', target: () => `/tools/billing/invoices/1?t=${encodeURIComponent(s.token).replace(/e/g, '%65')}` },
    { where: 'in another header', target: () => '/tools/billing/invoices/1', extra: (): [string, string] => ['X-Copy', `Bearer ${s.token}`] },
    { where: 'in a cookie', target: () => '/tools/billing/invoices/1', extra: (): [string, string] => ['Cookie', `t=${s.token}`] },
  ])('refuses the presented token $where with 400 bad_request; it never reaches the tool or the audit stream', async ({ target, extra }) => {
    const seen = upstream.seen.length;
    const headers: [string, string][] = [['Authorization', `Bearer ${s.token}`], ['Connection', 'close'], ...(extra ? [extra()] : [])];
    const reply = await rawExchange(g.data, [head('GET', target(), headers)]);
    expect(reply.status).toBe(400);
    expect(reply.json?.code).toBe('bad_request');
    expect(upstream.seen.length).toBe(seen);
    expectNoToken();
  });
});

/** Neither the token nor its signature nor its claims part is in the audit stream or the operational log. */
function expectNoToken(): void {
  const [, claims, signature] = s.token.split('.');
  const text = g.auditText() + g.logs.join('');
  for (const secret of [s.token, claims!, signature!, AGENT_SECRET, INJECTED_KEY]) expect(text).not.toContain(secret);
}
