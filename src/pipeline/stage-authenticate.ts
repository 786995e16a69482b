// Authenticate: SPEC §6 steps 1–4 (exactly one credential; a verified, unexpired session token).
import { GatewayError } from '../errors/gateway-error.js';
import { need, type RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';
import { bearerToken } from '../sessions/bearer.js';

export function authenticateStage(deps: PipelineDeps, ctx: RequestContext): void {
  const route = need(ctx, 'route');
  const header = ctx.req.headers.authorization;
  if (header !== undefined && route.pathToken !== undefined) {
    throw new GatewayError('bad_request', { detail: 'Send the token in the Authorization header or in the path, not both' });
  }
  const token = route.pathToken ?? bearerToken(header);
  ctx.token = deps.verifier.verify(token);
}
