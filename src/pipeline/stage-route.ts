// Route: validate the request target (SPEC §8) and find the tool. Needs no credential, reads no body.
import { GatewayError } from '../errors/gateway-error.js';
import { duplicateSecurityHeader } from '../upstream/headers.js';
import { parseDataPlaneTarget } from '../upstream/request-target.js';
import type { PipelineDeps } from './deps.js';
import type { RequestContext } from './context.js';

export function routeStage(deps: PipelineDeps, ctx: RequestContext): void {
  const duplicate = duplicateSecurityHeader(ctx.req.rawHeaders);
  if (duplicate) throw new GatewayError('bad_request', { detail: `Duplicate ${duplicate} header` });
  const target = parseDataPlaneTarget(ctx.req.url ?? '');
  if (target.kind !== 'tool') throw new GatewayError('route_not_found');
  const tool = deps.config.tools.get(target.tool);
  if (!tool) throw new GatewayError('route_not_found', { detail: 'No such tool' });
  ctx.route = {
    tool,
    segments: target.segments,
    path: target.path,
    query: target.query,
    pathToken: target.pathToken,
    auditPath: target.auditPath,
  };
}
