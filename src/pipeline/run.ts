// Runs the stages for one request and settles it: one local reply on failure, and exactly one tool.call
// audit record, written synchronously before the response is finished (SPEC §13 durability).
// DESIGN rule 15: nothing here throws out of the request. The error path assumes neither the socket nor
// the body is still there (sendReply), and an audit write that fails after a side effect turns the answer
// into audit_unavailable (or cuts a response that started) instead of crashing the process.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { problemReply, asGatewayError } from '../errors/problem.js';
import type { ErrorCode } from '../errors/catalogue.js';
import { GatewayError } from '../errors/gateway-error.js';
import { ownRequestErrors } from '../http/read-body.js';
import { ownResponseErrors, sendReply } from '../http/reply.js';
import { parseTraceparent } from '../upstream/headers.js';
import { newRequestId } from '../util/ids.js';
import { JsonTooDeepError } from '../util/strict-json.js';
import type { RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';
import { STAGES } from './stages.js';
import { toolCallEvent } from './request-audit.js';
import { mcpErrorReply } from '../mcp/mcp-reply.js';

export async function runDataPlane(deps: PipelineDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  ownRequestErrors(req);
  ownResponseErrors(res);
  const requestId = newRequestId();
  try {
    // SPEC §13: while the audit stream cannot be written, nothing is served (and nothing reaches a tool).
    if (!deps.audit.isAvailable()) {
      deps.audit.countRefused();
      sendReply(req, res, problemReply(new GatewayError('audit_unavailable'), requestId), { 'x-request-id': requestId });
      return;
    }
    await runStages(deps, req, res, requestId);
  } catch (err) {
    // Unreachable by design; if a bug gets here the process still serves everyone else.
    deps.metrics.internalErrors.inc();
    deps.logger.error({ err, request_id: requestId }, 'data-plane request failed outside the runner');
    sendReply(req, res, problemReply(new GatewayError('internal_error'), requestId), { 'x-request-id': requestId });
  }
}

/** What the request's one audit record says, and whether it was written yet. */
interface Settlement {
  status: 'ok' | ErrorCode;
  audited: boolean;
}

async function runStages(deps: PipelineDeps, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
  const outcome: Settlement = { status: 'ok', audited: false };
  const ctx: RequestContext = newContext(deps, req, res, requestId, () => settle(deps, ctx, outcome));
  res.setHeader('x-request-id', requestId);
  try {
    for (const stage of STAGES) {
      // Most stages of a GET are synchronous: awaiting their undefined would still cost a microtask turn.
      const pending = stage(deps, ctx);
      if (pending) await pending;
      // A stage may answer the request itself (a ledger replay): no later stage runs.
      if (ctx.answered !== undefined) break;
    }
  } catch (err) {
    await refuse(deps, ctx, outcome, err);
  } finally {
    noteTruncation(ctx);
    settle(deps, ctx, outcome);
    await finish(deps, ctx, outcome.status);
  }
}

function newContext(deps: PipelineDeps, req: IncomingMessage, res: ServerResponse, requestId: string, beforeEnd: () => void): RequestContext {
  const traceparent = req.headers.traceparent;
  return {
    requestId,
    startedAt: deps.clock.now(),
    req,
    res,
    policy: deps.policy.current(),
    traceId: typeof traceparent === 'string' ? parseTraceparent(traceparent)?.traceId : undefined,
    sideEvents: [],
    auditExtra: {},
    finishers: [],
    beforeEnd,
  };
}

/** Writes the request's audit records once, synchronously, before the response is ended (SPEC §13
 *  durability): by forward() just before the last byte, or before a local reply; runStages' finally covers
 *  responses that never ended. */
function settle(deps: PipelineDeps, ctx: RequestContext, outcome: Settlement): void {
  if (outcome.audited) return;
  outcome.audited = true;
  const now = deps.clock.now();
  try {
    for (const event of ctx.sideEvents) deps.audit.write(event);
    deps.audit.write(toolCallEvent(ctx, outcome.status, ctx.res.statusCode, now));
  } catch (err) {
    // The record could not be written: the answer it describes must not go out as if it had been.
    outcome.status = 'audit_unavailable';
    sendReply(ctx.req, ctx.res, problemReply(asGatewayError(err), ctx.requestId));
  }
  deps.metrics.countRequest(ctx.route?.tool.name ?? '', outcome.status);
  deps.metrics.requestDuration.observe((now - ctx.startedAt) / 1000);
}

/** A stage refused the request (or failed): answer with the catalogue error, or cut a response that started. */
async function refuse(deps: PipelineDeps, ctx: RequestContext, outcome: Settlement, err: unknown): Promise<void> {
  const { req, res, requestId } = ctx;
  const error = clientFault(err);
  outcome.status = error.code;
  if (error.code === 'store_unavailable') deps.metrics.storeErrors.inc();
  if (error.code === 'internal_error') {
    deps.metrics.internalErrors.inc();
    deps.logger.error({ err, request_id: requestId }, 'data-plane request failed');
  }
  if (res.headersSent || res.writableEnded) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  // Settle what the request reserved (a ledger slot) before the refusal is sent, not after it: a gateway
  // killed right after answering must not leave the slot in flight (it would come back as unknown).
  await finish(deps, ctx, outcome.status);
  // SPEC §11: a per-message outcome of an MCP JSON-RPC request is answered in MCP form (mcp-reply.ts);
  // a notification has no id to answer, so it gets the HTTP problem, as does every transport failure.
  const jsonRpcId = ctx.mcpMessage?.id;
  const mcpReply = jsonRpcId !== undefined && ctx.route?.tool.protocol === 'mcp' ? mcpErrorReply(error, requestId, jsonRpcId, ctx.mcpMessage?.method, ctx.urlElicitation === true) : undefined;
  const reply = mcpReply ?? problemReply(error, requestId);
  res.statusCode = reply.status;
  settle(deps, ctx, outcome); // before the reply (durability); answers audit_unavailable itself if the record failed
  sendReply(req, res, reply);
}

/** SPEC §13: a truncated answer is said so in the record, and why: the tool failed mid-body, or the agent
 *  itself went away (not the tool's fault, so never audited as an upstream failure). */
function noteTruncation(ctx: RequestContext): void {
  const relayOutcome = ctx.forwarded?.outcome;
  if (relayOutcome === 'aborted_after_response') ctx.auditExtra.aborted_after_response = true;
  else if (relayOutcome === 'client_closed') ctx.auditExtra.client_disconnected = true;
}

/** Runs the request's finishers once, in order; a failure is logged (the reply is decided already). */
async function finish(deps: PipelineDeps, ctx: RequestContext, status: 'ok' | ErrorCode): Promise<void> {
  if (ctx.finishers.length === 0) return;
  for (const finisher of ctx.finishers.splice(0)) {
    await finisher(status).catch((err: unknown) => deps.logger.error({ err, request_id: ctx.requestId }, 'request finisher failed'));
  }
}

/** Client faults found below the catalogue (JSON too deep to walk) as the data plane's code (SPEC §8). */
function clientFault(err: unknown): GatewayError {
  if (err instanceof JsonTooDeepError) return new GatewayError('bad_request', { detail: err.message });
  return asGatewayError(err);
}
