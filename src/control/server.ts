// Control-plane request handling: route, run the handler, reply JSON or problem+json, audit the action.
// DESIGN rule 15: nothing here throws out of the request; replies go through sendReply, which assumes
// nothing about the socket, and an audit write that fails answers audit_unavailable (SPEC §13).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AuditStream } from '../audit/types.js';
import type { ErrorCode } from '../errors/catalogue.js';
import { actionRecord } from '../audit/audit-draft.js';
import { GatewayError } from '../errors/gateway-error.js';
import { asGatewayError, problemReply, type ProblemReply } from '../errors/problem.js';
import { ownRequestErrors } from '../http/read-body.js';
import { ownResponseErrors, sendReply } from '../http/reply.js';
import type { Clock } from '../util/clock.js';
import { newRequestId } from '../util/ids.js';
import { JsonTooDeepError } from '../util/strict-json.js';
import type { ControlContext } from './control-context.js';
import { CONTROL_ROUTES } from './routes.js';
import type { ControlDeps } from './route.js';

export interface ControlServerDeps extends ControlDeps {
  readonly audit: AuditStream;
  readonly clock: Clock;
  readonly logger: Logger;
}

export async function handleControl(deps: ControlServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  ownRequestErrors(req);
  ownResponseErrors(res);
  const requestId = newRequestId();
  const noStore = { 'cache-control': 'no-store', 'x-request-id': requestId };
  try {
    // SPEC §13: while the audit stream cannot be written, no control action is taken.
    if (!deps.audit.isAvailable()) {
      deps.audit.countRefused();
      sendReply(req, res, problemReply(new GatewayError('audit_unavailable'), requestId), noStore);
      return;
    }
    await handleRoute(deps, req, res, requestId);
  } catch (err) {
    // Unreachable by design; if a bug gets here the process still serves everyone else.
    deps.metrics.internalErrors.inc();
    deps.logger.error({ err, request_id: requestId }, 'control-plane request failed outside the handler');
    sendReply(req, res, problemReply(new GatewayError('internal_error'), requestId), noStore);
  }
}

async function handleRoute(deps: ControlServerDeps, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
  const ctx: ControlContext = { requestId, req, startedAt: deps.clock.now(), audit: { event: null, extra: {} } };
  const path = (req.url ?? '/').split('?', 1)[0]!;
  const noStore = { 'cache-control': 'no-store', 'x-request-id': requestId };
  let status: 'ok' | ErrorCode = 'ok';
  let httpStatus = 500;
  let reply: ProblemReply | { status: number; headers: Record<string, string>; body: string };
  try {
    const { route, params } = findRoute(req.method ?? 'GET', path);
    ctx.audit.event = route.event;
    const answer = await route.handle(deps, params, req, ctx);
    httpStatus = 'raw' in answer ? 200 : answer.status;
    const body = 'raw' in answer ? answer.raw : JSON.stringify(answer.body);
    const contentType = 'raw' in answer ? answer.contentType : 'application/json';
    reply = { status: httpStatus, headers: { 'content-type': contentType }, body };
  } catch (err) {
    const error = clientFault(err);
    status = error.code;
    httpStatus = error.status;
    if (error.code === 'store_unavailable') deps.metrics.storeErrors.inc();
    if (error.code === 'internal_error') {
      deps.metrics.internalErrors.inc();
      deps.logger.error({ err, request_id: requestId }, 'control-plane request failed');
    }
    reply = problemReply(error, requestId);
  }
  // Written before the response, synchronously (SPEC §13 durability); a record that cannot be written
  // means the answer it describes is not given.
  try {
    settle(deps, ctx, req, { status, httpStatus, path });
  } catch (err) {
    reply = problemReply(asGatewayError(err), requestId);
  }
  // Responses may carry tokens: never cached (RFC 6749 §5.1).
  sendReply(req, res, reply as ProblemReply, noStore);
}

interface Outcome {
  readonly status: 'ok' | ErrorCode;
  readonly httpStatus: number;
  readonly path: string;
}

function settle(deps: ControlServerDeps, ctx: ControlContext, req: IncomingMessage, outcome: Outcome): void {
  const now = deps.clock.now();
  const record = actionRecord(ctx.audit, {
    ...outcome, time: now, requestId: ctx.requestId, policyRevision: deps.policy.current().revision, method: req.method ?? 'GET',
    durationMs: now - ctx.startedAt, srcIp: req.socket.remoteAddress ?? '',
  });
  if (record) deps.audit.write(record);
}

/** Client faults found below the catalogue (JSON too deep to walk) as the control plane's code (SPEC §8). */
function clientFault(err: unknown): GatewayError {
  if (err instanceof JsonTooDeepError) return new GatewayError('invalid_request', { detail: err.message });
  return asGatewayError(err);
}

function findRoute(method: string, path: string) {
  for (const route of CONTROL_ROUTES) {
    const match = route.pattern.exec(path);
    if (match && route.method === method) return { route, params: match.slice(1) };
  }
  throw new GatewayError('route_not_found');
}
