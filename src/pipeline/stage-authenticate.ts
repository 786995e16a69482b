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
  // SPEC §8: the token is never forwarded, not even when the agent itself puts it below the tool or in the query.
  if (carriesToken(route.segments, route.query, token)) {
    throw new GatewayError('bad_request', { detail: 'The path or query carries the session token' });
  }
  ctx.token = deps.verifier.verify(token);
}

function carriesToken(segments: readonly string[], query: string, token: string): boolean {
  if (token === '') return false;
  if (segments.some((segment) => segment.includes(token)) || query.includes(token)) return true;
  // A query is decoded by the tool, so an encoded copy of the token is still the token.
  try {
    return decodeURIComponent(query.replace(/\+/g, ' ')).includes(token);
  } catch {
    return false; // malformed escapes: the raw check above is all that can be said
  }
}
