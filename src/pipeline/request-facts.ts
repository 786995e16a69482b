import type { RequestFacts } from '../policy/types.js';
import { need, type RequestContext } from './context.js';

/** What policy evaluates for this request: the same facts at authorize and at approval re-validation. */
export function requestFacts(ctx: RequestContext): RequestFacts {
  const agent = need(ctx, 'agent');
  const action = need(ctx, 'action');
  return {
    agentId: agent.id,
    roles: agent.roles,
    tool: need(ctx, 'route').tool.name,
    method: action.method,
    path: action.path,
    ...(action.mcpTool !== undefined ? { mcpTool: action.mcpTool } : {}),
  };
}
