// SPEC §11 end to end: an in-process gateway in front of a fake MCP Streamable HTTP server on port 0.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AGENT_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson, type Reply } from '../helpers/client.js';
import { POLICY, mcpServer } from '../helpers/fake-mcp.js';

describe('MCP tools (SPEC §11)', () => {
  let upstream: TestUpstream;
  let t: TestGateway;
  const state = { sse: false, minted: 0 };
  let taskCounter = 0;

  beforeAll(async () => {
    upstream = await startUpstream(mcpServer(state));
    t = await startTestGateway({ upstreamUrl: upstream.url, policy: POLICY });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });
  beforeEach(() => {
    upstream.seen.length = 0;
    state.sse = false;
  });

  async function session(): Promise<{ session_id: string; token: string }> {
    const res = await postJson(`${t.control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: `mcp-${++taskCounter}` });
    expect(res.status).toBe(201);
    return res.json as { session_id: string; token: string };
  }
  const rpc = (token: string, message: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Reply> =>
    call(`${t.data}/tools/crm/`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', ...message }),
    });
  const toolCall = (token: string, id: number | string, name: string, headers: Record<string, string> = {}) =>
    rpc(token, { id, method: 'tools/call', params: { name, arguments: { q: 'x' } } }, headers);

  it('forwards an allowed tools/call', async () => {
    const s = await session();
    const res = await toolCall(s.token, 1, 'search_orders');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: 1, result: { content: [{ text: 'called search_orders' }] } });
    expect(upstream.seen).toHaveLength(1);
  });

  it('answers a denied tools/call as HTTP 200 with an isError tool result of the same id, the problem in _meta', async () => {
    const s = await session();
    for (const [id, name, rule] of [['req-7', 'delete_customer', 'crm-no-delete'], [8, 'export_all', undefined]] as const) {
      const res = await toolCall(s.token, id, name);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.json.jsonrpc).toBe('2.0');
      expect(res.json.id).toBe(id);
      expect(res.json.error).toBeUndefined();
      expect(res.json.result.isError).toBe(true);
      expect(res.json.result.content[0].text).toMatch(/^Policy denies this call\n/);
      const problem = res.json.result._meta['io.epochgate/problem'];
      expect(problem).toMatchObject({ code: 'policy_denied', status: 403, type: 'urn:epochgate:error:policy_denied' });
      expect(problem.rule_id).toBe(rule);
    }
    expect(upstream.seen).toHaveLength(0);
    const denied = t.auditRecords().filter((r) => r.unmapped?.epochgate?.mcp_tool === 'delete_customer');
    expect(denied.at(-1)?.status_code).toBe('policy_denied');
  });

  it('answers a require_approval tools/call with an isError tool result naming the approval_id, and Retry-After', async () => {
    const s = await session();
    const res = await toolCall(s.token, 3, 'refund_order');
    expect(res.status).toBe(200);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json.id).toBe(3);
    const problem = res.json.result._meta['io.epochgate/problem'];
    expect(problem.code).toBe('approval_required');
    expect(problem.approval_id).toMatch(/\S/);
    expect(res.json.result.content[0].text).toContain(problem.approval_id);
    expect(upstream.seen).toHaveLength(0);
  });

  it('answers a refused notification (no id) with the HTTP problem: there is no id to reply to', async () => {
    const s = await session();
    const res = await rpc(s.token, { method: 'tools/call', params: { name: 'delete_customer' } });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.json.code).toBe('policy_denied');
  });

  it('keeps transport failures HTTP: a stale-epoch token gets 401 with the bearer challenge', async () => {
    const s = await session();
    const resumed = await postJson(`${t.control}/v1/sessions/${s.session_id}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET });
    expect(resumed.status).toBe(200);
    const res = await toolCall(s.token, 4, 'search_orders');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="epochgate", error="invalid_token", error_description="session_stale_epoch"');
    expect(res.json.code).toBe('session_stale_epoch');
    expect(upstream.seen).toHaveLength(0);
  });

  it('refuses a JSON-RPC batch with 400 bad_request', async () => {
    const s = await session();
    const res = await call(`${t.data}/tools/crm/`, {
      method: 'POST',
      headers: { ...bearer(s.token), 'content-type': 'application/json' },
      body: JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }]),
    });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('bad_request');
    expect(upstream.seen).toHaveLength(0);
  });

  it('refuses 2026-07-28 Mcp-Method / Mcp-Name headers that disagree with the body, and forwards matching ones', async () => {
    const s = await session();
    const v = { 'mcp-protocol-version': '2026-07-28' };
    const refused: Record<string, string>[] = [
      { ...v, 'mcp-method': 'tools/call', 'mcp-name': 'get_customer' },
      { ...v, 'mcp-method': 'tools/list', 'mcp-name': 'search_orders' },
      { ...v, 'mcp-method': 'tools/call' },
      { 'mcp-name': 'get_customer' }, // an older revision: optional, but must agree when present
    ];
    for (const headers of refused) {
      const res = await toolCall(s.token, 5, 'search_orders', headers);
      expect(res.status).toBe(400);
      expect(res.json.code).toBe('bad_request');
    }
    expect(upstream.seen).toHaveLength(0);
    const ok = await toolCall(s.token, 6, 'search_orders', { ...v, 'mcp-method': 'tools/call', 'mcp-name': 'search_orders' });
    expect(ok.status).toBe(200);
    expect(upstream.seen).toHaveLength(1);
    expect(upstream.seen[0]!.headers['mcp-name']).toBe('search_orders');
  });

  it.each([false, true])('filters tools/list to the tools the session may call (SSE: %s)', async (sse) => {
    state.sse = sse;
    const s = await session();
    const res = await rpc(s.token, { id: 'list-1', method: 'tools/list' });
    expect(res.status).toBe(200);
    let message: any = res.json;
    if (sse) {
      expect(res.headers['content-type']).toBe('text/event-stream');
      const events = res.text.split('\n\n').filter((e) => e !== '');
      expect(events).toHaveLength(2);
      expect(events[0]).toContain('notifications/message');
      message = JSON.parse(events[1]!.split('data: ')[1]!);
    }
    expect(message.id).toBe('list-1');
    expect(message.result.tools.map((tool: { name: string }) => tool.name)).toEqual(['search_orders', 'get_customer', 'refund_order']);
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
  });

  it.each([
    ['id null', { id: null }],
    ['the notification form (no id)', {}],
    ['a string id', { id: 'x' }],
  ])('filters a tools/list answer whatever the request id: %s (JSON and SSE)', async (_what, id) => {
    const s = await session();
    for (const sse of [false, true]) {
      state.sse = sse;
      const res = await rpc(s.token, { ...id, method: 'tools/list' });
      expect(res.status).toBe(200);
      const data = sse ? res.text.split('\n\n').filter((e) => e.includes('"tools"'))[0]!.split('data: ')[1]! : res.text;
      expect(JSON.parse(data).result.tools.map((tool: { name: string }) => tool.name)).toEqual(['search_orders', 'get_customer', 'refund_order']);
      expect(res.text).not.toContain('delete_customer');
    }
  });

  it('filters a list replayed on a standalone GET stream, event by event as it is relayed', async () => {
    const s = await session();
    const res = await call(`${t.data}/tools/crm/`, { headers: { ...bearer(s.token), accept: 'text/event-stream', 'last-event-id': 'e0' } });
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('delete_customer');
    expect(res.text).toContain('"tools":[{"name":"search_orders"');
    expect(res.text).toContain('id: e2\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}\n\n');
  });

  it('speaks 2026-07-28 without MCP sessions: headers must agree with the body for tools/call, resources/read and prompts/get', async () => {
    const s = await session();
    const v = { 'mcp-protocol-version': '2026-07-28' };
    const list = await rpc(s.token, { id: 1, method: 'tools/list' }, { ...v, 'mcp-method': 'tools/list' });
    expect(list.status).toBe(200);
    expect(list.json.result.tools.map((tool: { name: string }) => tool.name)).toEqual(['search_orders', 'get_customer', 'refund_order']);
    const ok = await toolCall(s.token, 2, 'get_customer', { ...v, 'mcp-method': 'tools/call', 'mcp-name': 'get_customer' });
    expect(ok.json.result.content[0].text).toBe('called get_customer');
    expect(ok.headers['mcp-session-id']).toBeUndefined();
    const before = upstream.seen.length;
    const read = { id: 3, method: 'resources/read', params: { uri: 'crm://customers/1' } };
    expect((await rpc(s.token, read, { ...v, 'mcp-method': 'resources/read', 'mcp-name': 'crm://customers/2' })).status).toBe(400);
    const prompt = { id: 4, method: 'prompts/get', params: { name: 'summarise' } };
    expect((await rpc(s.token, prompt, { ...v, 'mcp-method': 'prompts/get', 'mcp-name': 'export' })).status).toBe(400);
    expect(upstream.seen.length).toBe(before);
    // Agreeing headers pass the header check; then policy decides (no rule names resources or prompts here).
    const refused = await rpc(s.token, read, { ...v, 'mcp-method': 'resources/read', 'mcp-name': 'crm://customers/1' });
    expect(refused.json).toMatchObject({ id: 3, error: { code: -31001, data: { code: 'policy_denied' } } });
  });

  it('binds an upstream Mcp-Session-Id to the gateway session that received it: another session gets 404', async () => {
    const a = await session();
    const b = await session();
    const init = await rpc(a.token, { id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    expect(init.status).toBe(200);
    const mcpSession = init.headers['mcp-session-id'] as string;
    expect(mcpSession).toMatch(/^mcp-sess-/);
    upstream.seen.length = 0;

    const stolen = await toolCall(b.token, 1, 'search_orders', { 'mcp-session-id': mcpSession });
    expect(stolen.status).toBe(404);
    expect(stolen.json.code).toBe('route_not_found');
    expect(upstream.seen).toHaveLength(0);

    const own = await toolCall(a.token, 2, 'search_orders', { 'mcp-session-id': mcpSession });
    expect(own.status).toBe(200);
    expect(upstream.seen).toHaveLength(1);
    expect(upstream.seen[0]!.headers['mcp-session-id']).toBe(mcpSession);
    // An id no session holds is forwarded: the upstream judges it.
    expect((await toolCall(b.token, 3, 'search_orders', { 'mcp-session-id': 'never-minted' })).status).toBe(200);
  });
});
