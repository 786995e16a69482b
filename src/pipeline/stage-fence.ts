// Fence: SPEC §6 steps 5–8. The session (state, epoch) is read from the store exactly once per request.
import { GatewayError } from '../errors/gateway-error.js';
import { admitSession } from '../sessions/session-access.js';
import { need, type RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';

export async function fenceStage(deps: PipelineDeps, ctx: RequestContext): Promise<void> {
  const token = need(ctx, 'token');
  const { session, agent } = await admitSession(deps.lifecycle, ctx.policy, token, ctx.requestId);
  ctx.session = session;
  ctx.agent = agent;
  // Step 8: the tool must be in the token's scope AND the session's current scope (a resume may have
  // narrowed it; an old token must not carry the wider scope forward).
  const tool = need(ctx, 'route').tool.name;
  if (!token.scope.includes(tool) || !session.scope.includes(tool)) {
    throw new GatewayError('scope_exceeded', { bearer: true, detail: `Tool ${tool} is outside the session scope` });
  }
}
