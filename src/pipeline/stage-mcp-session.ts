// MCP session binding check (SPEC §11): an Mcp-Session-Id minted by an upstream belongs to the gateway
// session that first received it (bound in mcp-forward.ts). Presented by another gateway session → 404
// route_not_found: the Streamable HTTP transport answers an unknown session id with 404 (the client then
// re-initializes), and to that caller the session is indeed unknown — the answer does not reveal that it
// exists elsewhere. An id nobody bound yet is forwarded: the upstream judges it.
// Only a request that carries the header costs a store read (one primary-key lookup); others, and every
// non-MCP tool, do no work here.
import { GatewayError } from '../errors/gateway-error.js';
import { mcpSessionHolder } from '../mcp/session-binding.js';
import { need, type RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';

export async function mcpSessionStage(deps: PipelineDeps, ctx: RequestContext): Promise<void> {
  const route = need(ctx, 'route');
  if (route.tool.protocol !== 'mcp') return;
  // Duplicates were refused by the route stage (SPEC §8), so this is one value.
  const id = ctx.req.headers['mcp-session-id'];
  if (typeof id !== 'string') return;
  const holder = await mcpSessionHolder(deps.store, { tool: route.tool.name, mcpSessionId: id }, need(ctx, 'session').sessionId);
  if (holder === 'elsewhere') throw new GatewayError('route_not_found', { detail: 'No such MCP session' });
  ctx.mcpSession = { id, boundHere: holder === 'here' };
}
