// Runs the stages for one request and settles it: one local reply on failure, and exactly one tool.call
// audit record, written synchronously before the response is finished (SPEC §13 durability).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { problemReply, asGatewayError } from '../errors/problem.js';
import type { ErrorCode } from '../errors/catalogue.js';
import { parseTraceparent } from '../upstream/headers.js';
import { newRequestId } from '../util/ids.js';
import type { RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';
import { STAGES } from './stages.js';
import { toolCallEvent } from './tool-call-event.js';
import { safeAuditPath } from './audit-path.js';

export async function runDataPlane(deps: PipelineDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = newRequestId();
  const traceparent = req.headers.traceparent;
  const ctx: RequestContext = {
    requestId,
    startedAt: deps.clock.now(),
    req,
    res,
    policy: deps.policy.current(),
    auditPath: safeAuditPath(req.url ?? ''),
    traceId: typeof traceparent === 'string' ? parseTraceparent(traceparent)?.traceId : undefined,
    sideEvents: [],
    auditExtra: {},
    finishers: [],
  };
  res.setHeader('x-request-id', requestId);
  let status: 'ok' | ErrorCode = 'ok';
  let audited = false;
  const settle = (): void => {
    if (audited) return;
    audited = true;
    const now = deps.clock.now();
    for (const event of ctx.sideEvents) deps.audit.write(event);
    deps.audit.write(toolCallEvent(ctx, status, res.statusCode, now));
    const tool = ctx.route?.tool.name ?? '';
    deps.metrics.requests.inc({ tool, code: status });
    deps.metrics.requestDuration.observe((now - ctx.startedAt) / 1000);
  };
  // The audit line must be on disk before the last byte of a streamed response is sent.
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    settle();
    return end(...args);
  }) as ServerResponse['end'];

  try {
    for (const stage of STAGES) await stage(deps, ctx);
  } catch (err) {
    const error = asGatewayError(err);
    status = error.code;
    if (error.code === 'store_unavailable') deps.metrics.storeErrors.inc();
    if (error.code === 'internal_error') deps.logger.error({ err, request_id: requestId }, 'data-plane request failed');
    if (!res.headersSent) {
      const reply = problemReply(error, requestId);
      // A body we refused unread must not be drained into the next request on this connection.
      if (!req.readableEnded) res.setHeader('connection', 'close');
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
    } else {
      res.destroy();
    }
  } finally {
    if (ctx.forwarded?.aborted) ctx.auditExtra.aborted_after_response = true;
    settle();
    for (const finish of ctx.finishers) {
      await finish(status).catch((err: unknown) => deps.logger.error({ err, request_id: requestId }, 'request finisher failed'));
    }
  }
}
