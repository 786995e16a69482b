// SPEC §3 and §11 with the official MCP TypeScript SDK on both sides: the agent is an SDK Client over
// StreamableHTTPClientTransport (the session token in requestInit.headers), the tool is the repository's
// sample CRM server (McpServer + StreamableHTTPServerTransport), stateful and stateless, SSE and JSON.
// The gateway runs the shipped policies/crm.yaml next to the test policy.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SampleMcp, SampleMcpOptions } from '../../src/demo/sample-mcp.js';
import { AGENT_SECRET, type TestGateway } from '../helpers/gateway.js';
import { decide } from '../helpers/approvals.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { closeClients, connect, mcpCode, openSession, problemOf, startPair, textOf } from '../helpers/mcp-sdk-pair.js';

afterEach(closeClients);

const MODES: [string, SampleMcpOptions][] = [
  ['stateful, SSE', {}],
  ['stateful, JSON', { json: true }],
  ['stateless, SSE', { stateless: true }],
  ['stateless, JSON', { stateless: true, json: true }],
];

describe.each(MODES)('the official SDK through the gateway (server %s)', (_mode, options) => {
  let crm: SampleMcp;
  let t: TestGateway;
  beforeAll(async () => ({ crm, t } = await startPair(options)));
  afterAll(async () => {
    await t.close();
    await crm.close();
  });

  it('filters tools/list, resources/list and prompts/list to what the policy lets the session use', async () => {
    const { client } = await connect(t, (await openSession(t)).token);
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['add_note', 'get_customer', 'search_customers', 'update_customer']);
    expect((await client.listResources()).resources.map((r) => r.uri).sort()).toEqual(['crm://customers/1', 'crm://customers/2']);
    expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(['summarise_customer']);
  });

  it('allows and refuses each selector kind: tools, resources, prompts', async () => {
    const { client } = await connect(t, (await openSession(t)).token);
    crm.ran.length = 0;
    const found = await client.callTool({ name: 'search_customers', arguments: { query: 'ada' } });
    expect(found.isError).toBeFalsy();
    expect(textOf(found)).toBe('["1"]');
    // A refused tools/call is a tool result the model can read: the SDK returns it, it does not throw.
    const denied = await client.callTool({ name: 'delete_customer', arguments: { id: '1' } });
    expect(denied.isError).toBe(true);
    expect(textOf(denied)).toMatch(/^Policy denies this call\nDenied by rule crm-never-delete\nNext: /);
    expect(problemOf(denied)).toMatchObject({ code: 'policy_denied', rule_id: 'crm-never-delete', status: 403 });
    expect((await client.readResource({ uri: 'crm://customers/2' })).contents[0]).toMatchObject({ uri: 'crm://customers/2' });
    expect(await mcpCode(client.readResource({ uri: 'crm://internal/audit-log' }))).toBe(-31001);
    expect((await client.getPrompt({ name: 'summarise_customer', arguments: { id: '1' } })).messages).toHaveLength(1);
    expect(await mcpCode(client.getPrompt({ name: 'export_everything', arguments: { id: '1' } }))).toBe(-31001);
    expect(crm.ran).toEqual(['tools/call search_customers', 'resources/read crm://customers/2', 'prompts/get summarise_customer']);
  });

  it('governs other methods by mcp_methods: completion/complete allowed, logging/setLevel denied by a deny rule', async () => {
    const { client } = await connect(t, (await openSession(t)).token);
    const completed = await client.complete({ ref: { type: 'ref/prompt', name: 'summarise_customer' }, argument: { name: 'id', value: '' } });
    expect(completed.completion.values).toEqual(['1', '2']);
    expect(await mcpCode(client.setLoggingLevel('debug'))).toBe(-31001);
  });
});

describe('MCP messages and requests governed by the gateway (SDK server, stateful SSE)', () => {
  let crm: SampleMcp;
  let t: TestGateway;
  beforeAll(async () => ({ crm, t } = await startPair({})));
  afterAll(async () => {
    await t.close();
    await crm.close();
  });
  const raw = (token: string, path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) =>
    call(`${t.data}/tools/crm${path}`, {
      method: init.method ?? 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });

  it('refuses duplicate member names anywhere in a message with 400 (JSON-RPC -32700), never forwarded', async () => {
    const s = await openSession(t);
    const before = crm.requests.length;
    for (const body of [
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_customers","name":"delete_customer","arguments":{"id":"1"}}}',
      '{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"delete_customer"}}',
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_customer","arguments":{"id":"1","id":"2"}}}',
    ]) {
      const res = await raw(s.token, '/', { body });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ code: 'bad_request', jsonrpc: '2.0', id: null, error: { code: -32700 } });
    }
    const batch = await raw(s.token, '/', { body: '[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]' });
    expect(batch.json).toMatchObject({ code: 'bad_request', error: { code: -32600 } });
    expect(crm.requests.length).toBe(before);
  });

  it('governs requests other than the endpoint POST: a path deny answers 403 before the body is read; other paths need an allow rule', async () => {
    const s = await openSession(t);
    const before = crm.requests.length;
    // The body is not even JSON: a 403 (not a 400) shows it was refused before being read.
    const admin = await raw(s.token, '/admin/users', { body: '{not json' });
    expect(admin.status).toBe(403);
    expect(admin.json).toMatchObject({ code: 'policy_denied', rule_id: 'crm-never-admin' });
    for (const [method, path] of [['PUT', '/export'], ['GET', '/customers/1'], ['DELETE', '/customers/1']] as const) {
      const res = await raw(s.token, path, { method });
      expect(res.status).toBe(403);
      expect(res.json).toMatchObject({ code: 'policy_denied' });
    }
    // A message posted to a sub-path needs an HTTP rule there; crm-tenant-b allows /tenant-b only.
    const other = await raw(s.token, '/tenant-c', { body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(other.status).toBe(403);
    expect(crm.requests.length).toBe(before);
    // GET and DELETE on the endpoint itself need no rule: they reach the server (which judges them).
    expect((await raw(s.token, '/', { method: 'GET' })).status).not.toBe(403);
    expect((await raw(s.token, '', { method: 'DELETE' })).status).not.toBe(403);
    expect(crm.requests.length).toBe(before + 2);
  });

  it('does not spend an approval given for POST /tools/crm on the same call posted to /tools/crm/tenant-b?x=1', async () => {
    const s = await openSession(t);
    const { client } = await connect(t, s.token);
    const { client: tenant } = await connect(t, s.token, '/tenant-b?x=1');
    crm.ran.length = 0;
    const args = { name: 'update_customer', arguments: { id: '1', email: 'new@example.com' } };
    const asked = problemOf(await client.callTool(args))!;
    expect(asked.code).toBe('approval_required');
    expect((await decide(t.control, asked.approval_id, 'approve')).status).toBe(200);
    const elsewhere = await tenant.callTool(args);
    expect(elsewhere.isError).toBe(true);
    expect(problemOf(elsewhere)).toMatchObject({ code: 'approval_required' });
    expect(problemOf(elsewhere)!.approval_id).not.toBe(asked.approval_id);
    expect(crm.ran).toEqual([]);
    const approved = await client.callTool(args);
    expect(approved.isError).toBeFalsy();
    expect(textOf(approved)).toBe('customer 1 now new@example.com');
    expect(crm.ran).toEqual(['tools/call update_customer']);
  });

  it('replays a side effect after a resume to a fresh client without handing it the recorded Mcp-Session-Id; its next call works', async () => {
    const s = await openSession(t);
    const first = await connect(t, s.token);
    crm.ran.length = 0;
    const original = await first.client.callTool({ name: 'add_note', arguments: { id: '1', note: 'called back' } });
    expect(original.isError).toBeFalsy();
    // The old worker's upstream MCP session goes away (DELETE), as it does when a worker dies and its server cleans up.
    await first.transport.terminateSession();
    const resumed = await postJson(`${t.control}/v1/sessions/${s.session_id}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET });
    expect(resumed.status).toBe(200);
    const fresh = await connect(t, resumed.json.token);
    const own = fresh.transport.sessionId;
    expect(own).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/); // the server's randomUUID()
    await fresh.client.listTools(); // moves the SDK's request ids on: the replay must carry the new one
    const replayed = await fresh.client.callTool({ name: 'add_note', arguments: { id: '1', note: 'called back' } });
    expect(replayed).toEqual(original);
    expect(crm.ran).toEqual(['tools/call add_note']);
    expect(fresh.transport.sessionId).toBe(own);
    const next = await fresh.client.callTool({ name: 'get_customer', arguments: { id: '2' } });
    expect(textOf(next)).toContain('Alan Turing');
  });
});
