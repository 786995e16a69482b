// SPEC §11: an upstream Mcp-Session-Id stays bound to the gateway session that received it across a
// gateway restart on the same SQLite store.
import { describe, expect, it } from 'vitest';
import { AGENT_SECRET, startTestGateway } from '../helpers/gateway.js';
import { startUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { POLICY, mcpServer } from '../helpers/fake-mcp.js';

describe('MCP session bindings across a restart (SPEC §11, SQLite)', () => {
  it('still refuses another session after the gateway restarts on the same store', async () => {
    const state = { sse: false, minted: 0 };
    const upstream = await startUpstream(mcpServer(state));
    let t = await startTestGateway({ upstreamUrl: upstream.url, policy: POLICY });
    try {
      const open = async (task: string) =>
        (await postJson(`${t.control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: task })).json as { token: string };
      const a = await open('restart-a');
      const b = await open('restart-b');
      const init = await call(`${t.data}/tools/crm/`, {
        method: 'POST',
        headers: { ...bearer(a.token), 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: {} }),
      });
      const mcpSession = init.headers['mcp-session-id'] as string;
      expect(mcpSession).toBe('mcp-sess-1');
      await t.close();
      t = await startTestGateway({ upstreamUrl: upstream.url, dir: t.dir });
      upstream.seen.length = 0;
      const send = (token: string) =>
        call(`${t.data}/tools/crm/`, {
          method: 'POST',
          headers: { ...bearer(token), 'content-type': 'application/json', 'mcp-session-id': mcpSession },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_customer' } }),
        });
      expect((await send(b.token)).status).toBe(404);
      expect(upstream.seen).toHaveLength(0);
      expect((await send(a.token)).status).toBe(200);
      expect(upstream.seen).toHaveLength(1);
    } finally {
      await t.close();
      await upstream.close();
    }
  });
});
