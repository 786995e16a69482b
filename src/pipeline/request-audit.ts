import type { AuditEvent } from '../audit/types.js';
import type { ErrorCode } from '../errors/catalogue.js';
import type { RequestContext } from './context.js';
import { safeAuditPath } from './audit-path.js';

/** The tool.call record for one data-plane request. Ids, codes and digests only: never a token or body. */
export function toolCallEvent(ctx: RequestContext, status: 'ok' | ErrorCode, httpStatus: number, now: number): AuditEvent {
  const { session, token, decision, route } = ctx;
  const authorizations = decision
    ? [
        { decision: decision.effect, ruleId: decision.rule?.id ?? null },
        ...decision.shadow.map((rule) => ({ decision: rule.effect, ruleId: rule.id, shadow: true })),
      ]
    : undefined;
  return {
    event: 'tool.call',
    time: now,
    requestId: ctx.requestId,
    status,
    disposition: status === 'ok' ? 'allowed' : 'blocked',
    ...(token ? { actor: { id: token.agentId, type: 'agent' as const }, tokenJti: token.jti } : {}),
    // A call refused at the fence has no session record: its token still names the session and epoch,
    // which is exactly what a SOC needs to see of a fenced worker.
    ...(session
      ? { sessionId: session.sessionId, epoch: session.epoch, taskId: session.taskId }
      : token
        ? { sessionId: token.sessionId, epoch: token.epoch }
        : {}),
    ...(authorizations ? { authorizations } : {}),
    policyRevision: ctx.policy.revision,
    ...(route ? { tool: route.tool.name } : {}),
    method: ctx.req.method ?? 'GET',
    // Unrouted requests (bad target, unknown tool) have no route: redact the raw target instead.
    path: route?.auditPath ?? safeAuditPath(ctx.req.url ?? ''),
    httpStatus,
    durationMs: now - ctx.startedAt,
    srcIp: ctx.req.socket.remoteAddress ?? '',
    ...(ctx.traceId ? { traceId: ctx.traceId } : {}),
    extra: ctx.auditExtra,
  };
}
