// What the forward stage does differently for MCP tools (SPEC §11). Most answers stream through forward()
// unbuffered; two are buffered (forward-buffered.ts) because the gateway must act on them before the agent
// sees them:
// - initialize: the Mcp-Session-Id the upstream mints is bound to this gateway session before the agent
//   can present it anywhere (a store failure answers 503 and the agent never gets an unbound id);
// - tools/list: the result is filtered to the tools policy lets this agent call (tools-list-filter.ts).
// Both are small; an answer over MAX_BUFFERED_MCP_BYTES is refused with 502 upstream_unreachable rather
// than relayed unvetted. An id first seen on a streamed answer is bound once that answer is relayed.
import { GatewayError } from '../errors/gateway-error.js';
import { filterToolsList } from '../mcp/tools-list-filter.js';
import type { BufferedForwardOptions } from '../upstream/forward-buffered.js';
import { need, type RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';

/** Bound on a buffered MCP answer (tools/list, initialize). Real tool lists are far below this. */
export const MAX_BUFFERED_MCP_BYTES = 4 * 1024 * 1024;

type Transform = BufferedForwardOptions['transform'];
type HeaderValue = string | string[] | number | undefined;

/** The transform for an MCP answer that must be buffered, or undefined when it streams. */
export function mcpBufferedTransform(deps: PipelineDeps, ctx: RequestContext): Transform | undefined {
  const message = ctx.mcpMessage;
  if (message?.method === 'initialize') {
    return async (_status, headers, body) => {
      await bindMcpSession(deps, ctx, headers['mcp-session-id']);
      return body;
    };
  }
  const id = message?.id;
  if (message?.method !== 'tools/list' || id === undefined) return undefined;
  return async (status, headers, body) => {
    await bindMcpSession(deps, ctx, headers['mcp-session-id']);
    // An HTTP error answer carries no tool list to filter.
    if (status < 200 || status >= 300) return body;
    const type = headers['content-type'];
    const filtered = filterToolsList(body, Array.isArray(type) ? type[0] : type, id, toolKeeper(ctx));
    // Fail closed (DESIGN rule 5): a tools/list answer we cannot read is never relayed unfiltered.
    if (filtered === undefined) {
      throw new GatewayError('upstream_unreachable', { detail: 'The tool answered tools/list with a body the gateway cannot read' });
    }
    return filtered;
  };
}

/** SPEC §11: a tool stays listed iff the pinned policy would not deny a tools/call of it (allow and
 *  require_approval keep it: the agent may call it, possibly after an approval). */
function toolKeeper(ctx: RequestContext): (name: string) => boolean {
  const agent = need(ctx, 'agent');
  const route = need(ctx, 'route');
  const action = need(ctx, 'action');
  const facts = { agentId: agent.id, roles: agent.roles, tool: route.tool.name, method: 'POST', path: action.path };
  return (name) => ctx.policy.evaluate({ ...facts, mcpTool: name }).effect !== 'deny';
}

/**
 * Records (tool, Mcp-Session-Id) → this gateway session, insert-if-absent (the first binding wins). No
 * store write when the request presented the same id and it is already bound here (the usual case).
 */
export async function bindMcpSession(deps: PipelineDeps, ctx: RequestContext, value: HeaderValue): Promise<void> {
  if (typeof value !== 'string' || value === '') return;
  if (ctx.mcpSession?.id === value && ctx.mcpSession.boundHere) return;
  const tool = need(ctx, 'route').tool.name;
  const sessionId = need(ctx, 'session').sessionId;
  const owner = await deps.store.mcpSessions.bind({ tool, mcpSessionId: value, sessionId, createdAt: deps.clock.now() });
  if (owner !== sessionId) {
    // The upstream handed out an id another gateway session already holds: that session keeps it, and
    // this one gets 404 if it presents it (stage-mcp-session.ts).
    deps.logger.warn({ request_id: ctx.requestId, tool }, 'upstream reused an MCP session id bound to another session');
  }
}
