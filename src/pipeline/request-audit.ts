// The audit records of one data-plane request (SPEC §13): one envelope, built here, shared by the tool.call
// record and every lifecycle record written with it (approval.*, ledger.*). Ids, codes and digests only:
// never a token or body.
import type { AuditEnvelope } from '../audit/envelope.js';
import type { AuditEvent } from '../audit/types.js';
import type { ErrorCode } from '../errors/catalogue.js';
import type { RequestContext } from './context.js';
import { safeAuditPath } from './audit-path.js';

/** What every record of this request carries, as far as the request got. */
export function requestEnvelope(ctx: RequestContext, now: number): AuditEnvelope {
  const { session, token, route } = ctx;
  return {
    time: now,
    requestId: ctx.requestId,
    ...(token ? { actor: { id: token.agentId, type: 'agent' as const }, tokenJti: token.jti } : {}),
    // A call refused at the fence has no session record: its token still names the session and epoch,
    // which is exactly what a SOC needs to see of a fenced worker.
    ...(session
      ? { sessionId: session.sessionId, epoch: session.epoch, taskId: session.taskId }
      : token
        ? { sessionId: token.sessionId, epoch: token.epoch }
        : {}),
    policyRevision: ctx.policy.revision,
    method: ctx.req.method ?? 'GET',
    // Unrouted requests (bad target, unknown tool) have no route: redact the raw target instead.
    path: route?.auditPath ?? safeAuditPath(ctx.req.url ?? ''),
    srcIp: ctx.req.socket.remoteAddress ?? '',
    ...(ctx.traceId ? { traceId: ctx.traceId } : {}),
  };
}

/** The tool.call record for one data-plane request. */
export function toolCallEvent(ctx: RequestContext, status: 'ok' | ErrorCode, httpStatus: number, now: number): AuditEvent {
  const { decision, route } = ctx;
  const authorizations = decision
    ? [
        { decision: decision.effect, ruleId: decision.rule?.id ?? null },
        ...decision.shadow.map((rule) => ({ decision: rule.effect, ruleId: rule.id, shadow: true })),
      ]
    : undefined;
  return {
    event: 'tool.call',
    ...requestEnvelope(ctx, now),
    status,
    disposition: status === 'ok' ? 'allowed' : 'blocked',
    ...(authorizations ? { authorizations } : {}),
    ...(route ? { tool: route.tool.name } : {}),
    httpStatus,
    durationMs: now - ctx.startedAt,
    extra: ctx.auditExtra,
  };
}
