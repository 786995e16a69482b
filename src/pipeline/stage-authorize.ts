// Authorize: SPEC §6 step 9 against the revision pinned at request start. deny > require_approval > allow.
import { deniedError } from '../policy/denied-error.js';
import { requestFacts } from './request-facts.js';
import { need, type RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';

export function authorizeStage(_deps: PipelineDeps, ctx: RequestContext): void {
  const action = need(ctx, 'action');
  const route = need(ctx, 'route');
  // MCP session plumbing (initialize, ping, notifications, tools/list, the SSE GET) is not a tool call:
  // it is governed by scope (already checked), and tools/call by the mcp_tools rules.
  if (route.tool.protocol === 'mcp' && action.mcpTool === undefined) return;
  const decision = ctx.policy.evaluate(requestFacts(ctx));
  ctx.decision = decision;
  if (decision.effect === 'deny') throw deniedError(decision);
}
