// Authenticate: SPEC §6 steps 1–4 (exactly one credential; a verified, unexpired session token).
import { GatewayError } from '../errors/gateway-error.js';
import { need, type RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';
import { bearerToken } from '../http/authorization.js';

export async function authenticateStage(deps: PipelineDeps, ctx: RequestContext): Promise<void> {
  const route = need(ctx, 'route');
  const header = ctx.req.headers.authorization;
  if (header !== undefined && route.pathToken !== undefined) {
    throw new GatewayError('bad_request', { detail: 'Send the token in the Authorization header or in the path, not both' });
  }
  const token = route.pathToken ?? bearerToken(header);
  // SPEC §8: the token is never forwarded, not even when the agent itself puts it below the tool or in the query.
  if (carriesToken(route.segments, route.query, token) || headerCarriesToken(ctx.req.rawHeaders, token)) {
    throw new GatewayError('bad_request', { detail: 'The path, query or a header other than Authorization carries the session token' });
  }
  ctx.token = await deps.verifier.verify(token);
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

/** SPEC §8: the token never reaches an upstream in any header; Authorization itself is always stripped. */
function headerCarriesToken(rawHeaders: readonly string[], token: string): boolean {
  if (token === '') return false;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === 'authorization') continue;
    if ((rawHeaders[i + 1] as string).includes(token)) return true;
  }
  return false;
}
