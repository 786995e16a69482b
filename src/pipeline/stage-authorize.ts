// Authorize: SPEC §6 step 9 against the revision pinned at request start, through THE decision shared
// with `policy test`/`explain` (policy/decide.ts): deny > require_approval > allow, no match = deny. MCP
// discovery and transport messages (and GET/DELETE on the MCP endpoint) are governed by scope alone, so
// they leave no decision behind: the ledger and approval stages then have nothing to do.
import { decideCall } from '../policy/decide.js';
import { deniedError } from '../policy/denied-error.js';
import { callFacts } from './request-facts.js';
import { need, type RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';

export function authorizeStage(_deps: PipelineDeps, ctx: RequestContext): void {
  const action = need(ctx, 'action');
  const verdict = decideCall(ctx.policy, callFacts(ctx, action.method, action.path));
  if (verdict.decision === null) return;
  ctx.decision = verdict.decision;
  if (verdict.effect === 'deny') throw deniedError(verdict.decision);
}
