// SPEC §11 with the sample CRM server (official SDK) behind the gateway and a raw HTTP client: revision
// 2025-06-18 message by message, and ledger outcomes of a tools/call answered in MCP form.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SampleMcp } from '../../src/demo/sample-mcp.js';
import { ADMIN_SECRET, AGENT_SECRET, type TestGateway } from '../helpers/gateway.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { closeClients, connect, openSession, problemOf, startPair, textOf } from '../helpers/mcp-sdk-pair.js';

afterEach(closeClients);

describe('MCP revision 2025-06-18 with a raw client (SDK server, stateless JSON)', () => {
  let crm: SampleMcp;
  let t: TestGateway;
  beforeAll(async () => ({ crm, t } = await startPair({ stateless: true, json: true })));
  afterAll(async () => {
    await t.close();
    await crm.close();
  });

  it('initializes, lists filtered tools and has a denied call answered as a tool result', async () => {
    const s = await openSession(t);
    const post = (message: Record<string, unknown>) =>
      call(`${t.data}/tools/crm`, {
        method: 'POST',
        headers: { ...bearer(s.token), 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', ...message }),
      });
    const init = await post({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    expect(init.json.result.protocolVersion).toBe('2025-06-18');
    const list = await post({ id: 2, method: 'tools/list' });
    expect(list.json.result.tools.map((tool: { name: string }) => tool.name)).not.toContain('delete_customer');
    const denied = await post({ id: 3, method: 'tools/call', params: { name: 'delete_customer', arguments: { id: '1' } } });
    expect(denied.json).toMatchObject({ id: 3, result: { isError: true, _meta: { 'io.epochgate/problem': { code: 'policy_denied' } } } });
    expect(crm.ran).toEqual([]);
  });

  it('replays a recorded tools/call after a resume under the new request id 42, not the recorded id 7 (SPEC §11)', async () => {
    const s = await openSession(t);
    const post = (token: string, message: Record<string, unknown>) =>
      call(`${t.data}/tools/crm`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', ...message }),
      });
    const params = { name: 'add_note', arguments: { id: '1', note: 'raw replay' } };
    crm.ran.length = 0;
    const original = await post(s.token, { id: 7, method: 'tools/call', params });
    expect(original.status).toBe(200);
    expect(original.json.id).toBe(7);
    const resumed = await postJson(`${t.control}/v1/sessions/${s.session_id}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET });
    expect(resumed.status).toBe(200);
    const replayed = await post(resumed.json.token, { id: 42, method: 'tools/call', params });
    expect(replayed.status).toBe(200);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.json).toEqual({ ...original.json, id: 42 });
    expect(crm.ran).toEqual(['tools/call add_note']);
  });
});

// A JSON-mode server, so a tool that does not answer in time is an upstream_timeout before any byte of the
// answer was relayed (an SSE answer would already have started).
describe('ledger outcomes of an MCP tools/call in MCP form (SDK server, stateful JSON)', () => {
  let crm: SampleMcp;
  let t: TestGateway;
  let release: () => void = () => undefined;
  let hold: Promise<void> | undefined;
  beforeAll(async () => {
    ({ crm, t } = await startPair({ json: true, beforeTool: (name) => (name === 'add_note' && hold ? hold : Promise.resolve()) }, 500));
  });
  afterAll(async () => {
    release();
    await t.close();
    await crm.close();
  });

  it('answers an unknown outcome as an isError result, and an admin done resolution as a tool result the SDK parses', async () => {
    const s = await openSession(t);
    const first = await connect(t, s.token);
    hold = new Promise<void>((resolve) => (release = resolve));
    const args = { name: 'add_note', arguments: { id: '2', note: 'maybe' } };
    // The tool does not answer within the crm tool's timeout_ms: the outcome is unknown.
    await expect(first.client.callTool(args)).rejects.toThrow(/504|upstream_timeout/);
    release();
    hold = undefined;
    const resumed = await postJson(`${t.control}/v1/sessions/${s.session_id}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET });
    const { client } = await connect(t, resumed.json.token);
    const unknown = await client.callTool(args);
    expect(unknown.isError).toBe(true);
    const problem = problemOf(unknown)!;
    expect(problem).toMatchObject({ code: 'outcome_unknown', entry_id: expect.stringMatching(/^led_/) });
    const resolved = await postJson(`${t.control}/v1/sessions/${s.session_id}/ledger/${problem.entry_id}/resolve`, { outcome: 'done' }, bearer(ADMIN_SECRET));
    expect(resolved.status).toBe(200);
    const done = await client.callTool(args);
    expect(done.isError).toBeFalsy();
    expect(textOf(done)).toMatch(/already happened/);
    expect(done._meta).toEqual({ 'io.epochgate/replay': { replayed: true, resolution: 'done', entry_id: problem.entry_id } });
  });
});
