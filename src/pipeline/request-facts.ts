import { isScopeOnlyMessage, messageFacts, type CallFacts } from '../policy/decide.js';
import type { RequestFacts } from '../policy/types.js';
import { need, type RequestContext } from './context.js';

/** The request as THE decision (policy/decide.ts) sees it; without the message before the body is read. */
export function callFacts(ctx: RequestContext, method: string, path: string): CallFacts {
  const agent = need(ctx, 'agent');
  const tool = need(ctx, 'route').tool;
  const message = ctx.mcpMessage;
  return {
    agentId: agent.id,
    roles: agent.roles,
    tool: tool.name,
    protocol: tool.protocol,
    method,
    path,
    ...(message && {
      mcp: { method: message.method, tool: message.toolName, resource: message.resourceUri, prompt: message.promptName },
    }),
  };
}

/** What policy evaluates for this request: the same facts at authorize and at approval re-validation. */
export function requestFacts(ctx: RequestContext): RequestFacts {
  const action = need(ctx, 'action');
  const facts = callFacts(ctx, action.method, action.path);
  const { mcp, protocol: _protocol, ...base } = facts;
  return mcp !== undefined && !isScopeOnlyMessage(mcp.method) ? messageFacts(facts, mcp) : base;
}
