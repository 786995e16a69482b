// Forward: strip, then inject headers (DESIGN rule 11), and stream the upstream answer back.
import { buildUpstreamHeaders } from '../upstream/headers.js';
import { buildUpstreamUrl } from '../upstream/request-target.js';
import { forward } from '../upstream/forward.js';
import { forwardBuffered } from '../upstream/forward-buffered.js';
import { bindMcpSession, MAX_BUFFERED_MCP_BYTES, mcpBufferedTransform, mcpStreamFilter } from './mcp-forward.js';
import { need, type RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';

export async function forwardStage(deps: PipelineDeps, ctx: RequestContext): Promise<void> {
  const route = need(ctx, 'route');
  const session = need(ctx, 'session');
  const action = need(ctx, 'action');
  await renewLeaseIfDue(deps, ctx);
  const socket = ctx.req.socket;
  const headers = buildUpstreamHeaders(ctx.req.rawHeaders, {
    tool: route.tool,
    requestId: ctx.requestId,
    clientIp: socket.remoteAddress ?? '',
    proto: 'encrypted' in socket && socket.encrypted ? 'https' : 'http',
    host: ctx.req.headers.host,
    traceparent: headerValue(ctx.req.headers.traceparent),
    sessionId: session.sessionId,
    epoch: session.epoch,
    agentId: session.agentId,
  });
  // A reserved ledger entry (SPEC §10): the answer is captured and recorded, and the outcome settled.
  const ledger = ctx.ledger;
  const options = {
    dispatcher: deps.dispatchers.get(route.tool.name),
    url: buildUpstreamUrl(route.tool.upstream, route.segments, route.query),
    method: action.method,
    headers,
    body: action.body,
    timeoutMs: route.tool.timeoutMs,
    streamIdleTimeoutMs: route.tool.streamIdleTimeoutMs,
    beforeEnd: ctx.beforeEnd,
  };
  const mcp = route.tool.protocol === 'mcp';
  // SPEC §11: initialize and tools/list answers are buffered and vetted (mcp-forward.ts); all else streams.
  const transform = mcp ? mcpBufferedTransform(deps, ctx) : undefined;
  const pending = transform
    ? forwardBuffered({ ...options, maxBytes: MAX_BUFFERED_MCP_BYTES, transform }, ctx.res)
    : forward({ ...options, ...(mcp && { bodyFilter: mcpStreamFilter(ctx) }), ...ledger?.forwardOptions() }, ctx.res);
  const result = await (ledger ? ledger.track(pending) : pending);
  ctx.forwarded = { status: result.status, upstreamMs: result.upstreamMs, aborted: result.outcome !== 'ok' };
  deps.metrics.upstreamDuration.observe(result.upstreamMs / 1000);
  // An Mcp-Session-Id on a streamed answer (SPEC §11): the reply is already sent, so a failure is logged.
  if (mcp && !transform) {
    await bindMcpSession(deps, ctx, ctx.res.getHeader('mcp-session-id')).catch((err: unknown) =>
      deps.logger.error({ err, request_id: ctx.requestId }, 'MCP session binding failed'),
    );
  }
}

// SPEC §5 allows amortised renewal: write only when less than half the lease remains, so an ordinary
// call costs no store write (a durable SQLite write is ~100× a read).
async function renewLeaseIfDue(deps: PipelineDeps, ctx: RequestContext): Promise<void> {
  const session = need(ctx, 'session');
  const now = deps.clock.now();
  const leaseTtl = ctx.policy.sessions.leaseTtlMs;
  if (session.leaseExpiresAt - now >= leaseTtl / 2) return;
  await deps.store.renewLease(session.sessionId, session.epoch, now + leaseTtl, now);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
