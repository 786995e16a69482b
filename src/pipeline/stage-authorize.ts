// Authorize: SPEC §6 step 9 against the revision pinned at request start. deny > require_approval > allow.
import { GatewayError } from '../errors/gateway-error.js';
import { need, type RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';

export function authorizeStage(_deps: PipelineDeps, ctx: RequestContext): void {
  const agent = need(ctx, 'agent');
  const action = need(ctx, 'action');
  const route = need(ctx, 'route');
  // MCP session plumbing (initialize, ping, notifications, tools/list, the SSE GET) is not a tool call:
  // it is governed by scope (already checked), and tools/call by the mcp_tools rules.
  if (route.tool.protocol === 'mcp' && action.mcpTool === undefined) return;
  const decision = ctx.policy.evaluate({
    agentId: agent.id,
    roles: agent.roles,
    tool: route.tool.name,
    method: action.method,
    path: action.path,
    ...(action.mcpTool !== undefined ? { mcpTool: action.mcpTool } : {}),
  });
  ctx.decision = decision;
  if (decision.effect === 'deny') {
    throw new GatewayError('policy_denied', {
      detail: decision.rule ? `Denied by rule ${decision.rule.id}` : 'No policy rule allows this call',
      fields: decision.rule ? { rule_id: decision.rule.id } : {},
    });
  }
}
