// What the forward stage does differently for MCP tools (SPEC §11). Most answers stream through forward()
// unbuffered; two are buffered (forward-buffered.ts) because the gateway must act on them before the agent
// sees them:
// - initialize: the Mcp-Session-Id the upstream mints is bound to this gateway session before the agent
//   can present it anywhere (a store failure answers 503 and the agent never gets an unbound id);
// - tools/list, and resources/list / prompts/list where a rule of the tool names resources / prompts: the
//   result is filtered to what policy lets this agent use (list-filter.ts), whatever the request's id.
// Both are small; an answer over MAX_BUFFERED_MCP_BYTES is refused with 502 upstream_unreachable rather
// than relayed unvetted. An id first seen on a streamed answer is bound once that answer is relayed.
import { GatewayError } from '../errors/gateway-error.js';
import { bindMcpSessionId, declaresUrlElicitation } from '../mcp/session-binding.js';
import { filterListAnswer, LIST_KINDS, sseListFilter, type KeepFor, type KeepItem, type ListKind } from '../mcp/list-filter.js';
import type { ForwardOptions } from '../upstream/forward.js';
import { decideCall } from '../policy/decide.js';
import { callFacts } from './request-facts.js';
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
    const urlElicitation = declaresUrlElicitation(need(ctx, 'action').body);
    return async (_status, headers, body) => {
      await bindMcpSession(deps, ctx, headers['mcp-session-id'], urlElicitation);
      return body;
    };
  }
  const kind = message?.method !== undefined ? LIST_KINDS[message.method] : undefined;
  if (kind === undefined || !filtersList(ctx, kind)) return undefined;
  return async (status, headers, body) => {
    await bindMcpSession(deps, ctx, headers['mcp-session-id']);
    // An HTTP error answer carries no list to filter.
    if (status < 200 || status >= 300) return body;
    const type = headers['content-type'];
    const filtered = filterListAnswer(body, Array.isArray(type) ? type[0] : type, kind, keeper(ctx, kind));
    // Fail closed (DESIGN rule 5): a list answer we cannot read is never relayed unfiltered.
    if (filtered === undefined) {
      throw new GatewayError('upstream_unreachable', { detail: 'The tool answered a list request with a body the gateway cannot read' });
    }
    return filtered;
  };
}

/** SPEC §11: tools/list always; resources/list and prompts/list when a rule of this tool names them. */
function filtersList(ctx: RequestContext, kind: ListKind): boolean {
  if (kind.member === 'tools') return true;
  const filters = ctx.policy.mcpListFilters(need(ctx, 'route').tool.name);
  return kind.member === 'resources' ? filters.resources : filters.prompts;
}

/** An item stays listed iff THE decision (policy/decide.ts) for using it — tools/call of the tool,
 *  resources/read of the resource, prompts/get of the prompt, POSTed where the list was asked (or the
 *  stream opened) — is not a deny (allow and require_approval keep it: the agent may use it, possibly
 *  after an approval). */
function keeper(ctx: RequestContext, kind: ListKind): KeepItem {
  const action = need(ctx, 'action');
  const facts = callFacts(ctx, 'POST', action.path);
  const use =
    kind.member === 'tools'
      ? (key: string) => ({ method: 'tools/call', tool: key })
      : kind.member === 'resources'
        ? (key: string) => ({ method: 'resources/read', resource: key })
        : (key: string) => ({ method: 'prompts/get', prompt: key });
  return (key) => decideCall(ctx.policy, { ...facts, mcp: use(key) }).effect !== 'deny';
}

/** SPEC §11 "whatever its id or stream": every other SSE answer of an MCP tool (tools/call streams, the
 *  standalone GET stream, a resumed stream) is vetted event by event as it is relayed (list-filter.ts). */
export function mcpStreamFilter(ctx: RequestContext): ForwardOptions['bodyFilter'] {
  const keepFor: KeepFor = (kind) => (filtersList(ctx, kind) ? keeper(ctx, kind) : undefined);
  return (headers) => {
    const type = headers['content-type'];
    const media = String(Array.isArray(type) ? type[0] : (type ?? '')).trimStart().toLowerCase();
    return media.startsWith('text/event-stream') ? sseListFilter(keepFor) : undefined;
  };
}

/**
 * Records (tool, Mcp-Session-Id) → this gateway session, insert-if-absent (the first binding wins). No
 * store write when the request presented the same id and it is already bound here (the usual case).
 */
export async function bindMcpSession(deps: PipelineDeps, ctx: RequestContext, value: HeaderValue, urlElicitation = false): Promise<void> {
  if (typeof value !== 'string' || value === '') return;
  if (ctx.mcpSession?.id === value && ctx.mcpSession.boundHere) return;
  const tool = need(ctx, 'route').tool.name;
  const sessionId = need(ctx, 'session').sessionId;
  const holder = await bindMcpSessionId(deps.store, { tool, mcpSessionId: value }, sessionId, deps.clock.now(), urlElicitation);
  if (holder === 'elsewhere') {
    // The upstream handed out an id another gateway session already holds: that session keeps it, and
    // this one gets 404 if it presents it (stage-mcp-session.ts).
    deps.logger.warn({ request_id: ctx.requestId, tool }, 'upstream reused an MCP session id bound to another session');
  }
}
