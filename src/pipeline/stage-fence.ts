// Fence: SPEC §6 steps 5–8. The session (state, epoch) is read from the store exactly once per request.
// An admitted call is registered in the live-call registry (SPEC §8) under that session and epoch: it is
// ended if the session stops accepting the epoch while the call is in flight, and it counts against the
// session's in-flight limit until the request is settled.
import { GatewayError } from '../errors/gateway-error.js';
import { admitSession } from '../sessions/session-access.js';
import type { VerifiedToken } from '../sessions/token-verify.js';
import type { SessionRecord } from '../store/types.js';
import { need, type RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';

export async function fenceStage(deps: PipelineDeps, ctx: RequestContext): Promise<void> {
  const token = need(ctx, 'token');
  const { session, agent } = await admitSession(deps.lifecycle, ctx.policy, token, ctx.requestId);
  ctx.session = session;
  ctx.agent = agent;
  const tool = need(ctx, 'route').tool;
  assertInScope(token, session, tool.name);
  const live = deps.live.admit(session, ctx.res);
  ctx.live = live;
  // Released once however the request ends (answered, refused, aborted by the client, upstream failure).
  ctx.finishers.push(async () => live.release());
  // A plain HTTP call over the limit is refused before its body is read (cheap rejection first). An MCP
  // message is refused after classify (stage-inflight.ts), so a tools/call gets its refusal in MCP form.
  if (!live.counted && tool.protocol !== 'mcp') throw deps.live.limitError();
}

/** Step 8: the tool must be in the token's scope AND the session's current scope (a resume may have
 *  narrowed it; an old token must not carry the wider scope forward). */
export function assertInScope(token: VerifiedToken, session: SessionRecord, tool: string): void {
  if (!token.scope.includes(tool) || !session.scope.includes(tool)) {
    throw new GatewayError('scope_exceeded', { bearer: true, detail: `Tool ${tool} is outside the session scope` });
  }
}
