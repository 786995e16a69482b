// A fake MCP Streamable HTTP server for the gateway's MCP tests, and the policy they run under (MCP rules
// instead of the catch-all crm rule).
import type { ServerResponse } from 'node:http';
import { defaultPolicy } from './gateway.js';

export const LISTED = ['search_orders', 'get_customer', 'refund_order', 'delete_customer', 'export_all'];
export const MCP_RULES = `  - id: crm-read
    effect: allow
    roles: [billing-agent]
    tools: [crm]
    mcp_tools: ["search_*", "get_customer"]
  - id: crm-refunds
    effect: require_approval
    roles: [billing-agent]
    tools: [crm]
    mcp_tools: ["refund_*"]
    approval: { approvers: [finance-approver], ttl: 1h, hold: 0s }
  - id: crm-no-delete
    effect: deny
    tools: [crm]
    mcp_tools: ["delete_*"]
`;
// The default policy without its allow-everything crm rule, plus the MCP rules above.
export const POLICY = defaultPolicy(MCP_RULES).replace(/  - id: crm-all\n[\s\S]*?tools: \[crm\]\n/, '');

/** A minimal MCP server: initialize mints a session id, tools/list answers as JSON or SSE, tools/call echoes. */
export function mcpServer(state: { sse: boolean; minted: number }) {
  return (req: { method?: string }, res: ServerResponse, body: string): void => {
    if (req.method === 'GET') {
      // A resumed stream (Last-Event-ID) replaying an earlier tools/list answer, then a progress event.
      const result = { tools: LISTED.map((name) => ({ name, inputSchema: { type: 'object' } })) };
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`id: e1\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 'earlier', result })}\n`);
      res.end(`\nid: e2\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}\n\n`);
      return;
    }
    const message = JSON.parse(body) as { id?: number | string; method: string; params?: { name?: string } };
    const reply = (result: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id ?? null, result }));
    };
    // Answers tools/list whatever the id (null, or none at all), as a careless server might.
    if (message.id === undefined && message.method !== 'tools/list') {
      res.writeHead(202).end();
    } else if (message.method === 'initialize') {
      reply({ protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1' } }, { 'mcp-session-id': `mcp-sess-${++state.minted}` });
    } else if (message.method === 'tools/list') {
      const result = { tools: LISTED.map((name) => ({ name, inputSchema: { type: 'object' } })) };
      if (!state.sse) return reply(result);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'listing' } })}\n\n`);
      res.end(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: message.id ?? null, result })}\n\n`);
    } else {
      reply({ content: [{ type: 'text', text: `called ${message.params?.name ?? message.method}` }] });
    }
  };
}
