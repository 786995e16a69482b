// Forward: strip, then inject headers (DESIGN rule 11), and stream the upstream answer back.
import { buildUpstreamHeaders } from '../upstream/headers.js';
import { buildUpstreamUrl } from '../upstream/request-target.js';
import { forward } from '../upstream/forward.js';
import { forwardBuffered } from '../upstream/forward-buffered.js';
import { bindMcpSession, MAX_BUFFERED_MCP_BYTES, mcpBufferedTransform, mcpStreamFilter } from './mcp-forward.js';
import { isGatewayError } from '../errors/gateway-error.js';
import { renewLeaseIfDue } from '../sessions/lease.js';
import { need, type RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';

export async function forwardStage(deps: PipelineDeps, ctx: RequestContext): Promise<void> {
  const route = need(ctx, 'route');
  const action = need(ctx, 'action');
  // SPEC §5: an accepted call renews the lease; a session changed since the fence is refused (as the fence).
  await renewLeaseIfDue(deps.store, need(ctx, 'session'), ctx.policy.sessions.leaseTtlMs, deps.clock.now());
  // A reserved ledger entry (SPEC §10): the answer is captured and recorded, and the outcome settled.
  const ledger = ctx.ledger;
  const options = {
    dispatcher: deps.dispatchers.get(route.tool.name),
    url: buildUpstreamUrl(route.tool.upstream, route.segments, route.query),
    method: action.method,
    headers: upstreamHeaders(ctx),
    body: action.body,
    timeoutMs: route.tool.timeoutMs,
    streamIdleTimeoutMs: route.tool.streamIdleTimeoutMs,
    beforeEnd: ctx.beforeEnd,
  };
  const mcp = route.tool.protocol === 'mcp';
  // SPEC §11: initialize and tools/list answers are buffered and vetted (mcp-forward.ts); all else streams.
  const transform = mcp ? mcpBufferedTransform(deps, ctx) : undefined;
  // SPEC §8: a plain streamed forward follows the live call's signal (a fenced call's upstream is aborted);
  // a ledger capture keeps reading to record the outcome (SPEC §10) and the buffered form is short, so for
  // those, fencing only cuts the client off (live-call.ts).
  const live = ctx.live;
  const signal = !transform && !ledger ? live?.signal : undefined;
  live?.throwIfEnded();
  live?.setPhase('forwarding', signal !== undefined);
  const pending = transform
    ? forwardBuffered({ ...options, maxBytes: MAX_BUFFERED_MCP_BYTES, transform }, ctx.res)
    : forward({ ...options, ...(mcp && { bodyFilter: mcpStreamFilter(ctx) }), ...ledger?.forwardOptions(), ...(signal ? { signal } : {}) }, ctx.res);
  const result = await auditFence(ctx, ledger ? ledger.track(pending) : pending);
  ctx.forwarded = { status: result.status, upstreamMs: result.upstreamMs, outcome: result.outcome };
  deps.metrics.upstreamDuration.observe(result.upstreamMs / 1000);
  // An Mcp-Session-Id on a streamed answer (SPEC §11): the reply is already sent, so a failure is logged.
  if (mcp && !transform) {
    await bindMcpSession(deps, ctx, ctx.res.getHeader('mcp-session-id')).catch((err: unknown) =>
      deps.logger.error({ err, request_id: ctx.requestId }, 'MCP session binding failed'),
    );
  }
}

function upstreamHeaders(ctx: RequestContext): ReturnType<typeof buildUpstreamHeaders> {
  const session = need(ctx, 'session');
  const socket = ctx.req.socket;
  return buildUpstreamHeaders(ctx.req.rawHeaders, {
    tool: need(ctx, 'route').tool,
    requestId: ctx.requestId,
    clientIp: socket.remoteAddress ?? '',
    proto: 'encrypted' in socket && socket.encrypted ? 'https' : 'http',
    host: ctx.req.headers.host,
    traceparent: headerValue(ctx.req.headers.traceparent),
    sessionId: session.sessionId,
    epoch: session.epoch,
    agentId: session.agentId,
  });
}

/** The audit record says why a call was cut short: the session's refusal, or the shutdown (SPEC §13). */
async function auditFence<T>(ctx: RequestContext, forwarding: Promise<T>): Promise<T> {
  try {
    return await forwarding;
  } finally {
    const signal = ctx.live?.signal;
    if (signal?.aborted) ctx.auditExtra.fenced = isGatewayError(signal.reason) ? signal.reason.code : 'shutdown';
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
