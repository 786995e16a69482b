// Control-plane request handling: route, run the handler, reply JSON or problem+json, audit the action.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/types.js';
import type { ErrorCode } from '../errors/catalogue.js';
import { GatewayError } from '../errors/gateway-error.js';
import { asGatewayError, problemReply } from '../errors/problem.js';
import type { Clock } from '../util/clock.js';
import { newRequestId } from '../util/ids.js';
import type { ControlContext } from './control-context.js';
import { CONTROL_ROUTES } from './routes.js';
import type { ControlDeps } from './route.js';

export interface ControlServerDeps extends ControlDeps {
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly logger: Logger;
}

export async function handleControl(deps: ControlServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = newRequestId();
  const ctx: ControlContext = { requestId, req, startedAt: deps.clock.now(), audit: { event: null, extra: {} } };
  const path = (req.url ?? '/').split('?', 1)[0]!;
  let status: 'ok' | ErrorCode = 'ok';
  let httpStatus = 500;
  try {
    const { route, params } = findRoute(req.method ?? 'GET', path);
    ctx.audit.event = route.event;
    const reply = await route.handle(deps, params, req, ctx);
    httpStatus = 'raw' in reply ? 200 : reply.status;
    const body = 'raw' in reply ? reply.raw : JSON.stringify(reply.body);
    const contentType = 'raw' in reply ? reply.contentType : 'application/json';
    settle();
    // Responses may carry tokens: never cached (RFC 6749 §5.1).
    res.writeHead(httpStatus, { 'content-type': contentType, 'cache-control': 'no-store', 'x-request-id': requestId });
    res.end(body);
  } catch (err) {
    const error = asGatewayError(err);
    status = error.code;
    httpStatus = error.status;
    if (error.code === 'store_unavailable') deps.metrics.storeErrors.inc();
    if (error.code === 'internal_error') deps.logger.error({ err, request_id: requestId }, 'control-plane request failed');
    const reply = problemReply(error, requestId);
    settle();
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(reply.status, { ...reply.headers, 'cache-control': 'no-store', 'x-request-id': requestId });
    res.end(reply.body);
  }

  // Written before the response, synchronously (SPEC §13 durability).
  function settle(): void {
    const draft = ctx.audit;
    if (draft.event === null) return;
    const now = deps.clock.now();
    deps.audit.write({
      event: draft.event,
      time: now,
      requestId,
      status,
      disposition: draft.disposition ?? (status === 'ok' ? 'allowed' : 'blocked'),
      ...(draft.actor ? { actor: draft.actor } : {}),
      ...(draft.sessionId ? { sessionId: draft.sessionId } : {}),
      ...(draft.tokenJti ? { tokenJti: draft.tokenJti } : {}),
      ...(draft.epoch !== undefined ? { epoch: draft.epoch } : {}),
      ...(draft.taskId ? { taskId: draft.taskId } : {}),
      policyRevision: deps.policy.current().revision,
      method: req.method ?? 'GET',
      path,
      httpStatus,
      durationMs: now - ctx.startedAt,
      srcIp: req.socket.remoteAddress ?? '',
      extra: draft.extra,
    });
  }
}

function findRoute(method: string, path: string) {
  for (const route of CONTROL_ROUTES) {
    const match = route.pattern.exec(path);
    if (match && route.method === method) return { route, params: match.slice(1) };
  }
  throw new GatewayError('route_not_found');
}
