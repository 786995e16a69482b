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
import { declaresBody } from './read-body.js';
import { mcpErrorReply } from '../mcp/mcp-reply.js';

export async function runDataPlane(deps: PipelineDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = newRequestId();
  const traceparent = req.headers.traceparent;
  let status: 'ok' | ErrorCode = 'ok';
  let audited = false;
  // Written once, synchronously, before the response is ended (SPEC §13 durability): by forward() just
  // before the last byte, or here before a local reply; the finally covers responses that never ended.
  const settle = (): void => {
    if (audited) return;
    audited = true;
    const now = deps.clock.now();
    for (const event of ctx.sideEvents) deps.audit.write(event);
    deps.audit.write(toolCallEvent(ctx, status, res.statusCode, now));
    deps.metrics.requests.inc({ tool: ctx.route?.tool.name ?? '', code: status });
    deps.metrics.requestDuration.observe((now - ctx.startedAt) / 1000);
  };
  const ctx: RequestContext = {
    requestId,
    startedAt: deps.clock.now(),
    req,
    res,
    policy: deps.policy.current(),
    traceId: typeof traceparent === 'string' ? parseTraceparent(traceparent)?.traceId : undefined,
    sideEvents: [],
    auditExtra: {},
    finishers: [],
    beforeEnd: settle,
  };
  res.setHeader('x-request-id', requestId);

  try {
    for (const stage of STAGES) {
      await stage(deps, ctx);
      // A stage may answer the request itself (a ledger replay): no later stage runs.
      if (ctx.answered !== undefined) break;
    }
  } catch (err) {
    const error = asGatewayError(err);
    status = error.code;
    if (error.code === 'store_unavailable') deps.metrics.storeErrors.inc();
    if (error.code === 'internal_error') deps.logger.error({ err, request_id: requestId }, 'data-plane request failed');
    if (!res.headersSent) {
      // Settle what the request reserved (a ledger slot) before the refusal is sent, not after it: a gateway
      // killed right after answering must not leave the slot in flight (it would come back as unknown).
      await finish();
      // SPEC §11: a per-message outcome of an MCP JSON-RPC request is answered in MCP form (mcp-reply.ts);
      // a notification has no id to answer, so it gets the HTTP problem, as does every transport failure.
      const jsonRpcId = ctx.mcpMessage?.id;
      const mcpReply = jsonRpcId !== undefined && ctx.route?.tool.protocol === 'mcp' ? mcpErrorReply(error, requestId, jsonRpcId, ctx.mcpMessage?.method) : undefined;
      const reply = mcpReply ?? problemReply(error, requestId);
      // A body we refused unread must not be drained into the next request on this connection.
      if (declaresBody(req) && !req.readableEnded) res.setHeader('connection', 'close');
      res.writeHead(reply.status, reply.headers);
      settle();
      res.end(reply.body);
    } else {
      res.destroy();
    }
  } finally {
    if (ctx.forwarded?.aborted) ctx.auditExtra.aborted_after_response = true;
    settle();
    await finish();
  }

  // Runs the request's finishers once, in order; a failure is logged (the reply is decided already).
  async function finish(): Promise<void> {
    for (const finisher of ctx.finishers.splice(0)) {
      await finisher(status).catch((err: unknown) => deps.logger.error({ err, request_id: requestId }, 'request finisher failed'));
    }
  }
}
