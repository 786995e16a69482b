// Approval (SPEC §9): a require_approval decision never reaches the tool without consuming an approval
// for this exact call. The flow itself lives in approvals/approval-flow.ts; this stage maps the request
// onto it and turns each lifecycle step into an audit record written with the tool.call (SPEC §13).
import { APPROVAL_DISPOSITION, approvalAuditExtra } from '../approvals/approval-events.js';
import { resolveApproval, type ApprovalStep } from '../approvals/approval-flow.js';
import type { AuditEvent } from '../audit/types.js';
import { isGatewayError } from '../errors/gateway-error.js';
import { actionDigestOf } from './action-digest.js';
import { requestFacts } from './request-facts.js';
import { need, type RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';

export async function approvalStage(deps: PipelineDeps, ctx: RequestContext): Promise<void> {
  const decision = ctx.decision;
  if (decision?.effect !== 'require_approval' || decision.rule === null) return;
  const route = need(ctx, 'route');
  const session = need(ctx, 'session');
  const action = need(ctx, 'action');
  const digest = actionDigestOf(ctx);
  ctx.auditExtra.action_digest = digest;
  // A client that goes away while held stops the wait (its answer could not be delivered anyway).
  const gone = new AbortController();
  const onClose = (): void => {
    if (!ctx.res.writableFinished) gone.abort();
  };
  ctx.res.once('close', onClose);
  try {
    const outcome = await resolveApproval(
      { store: deps.store, clock: deps.clock, policy: deps.policy },
      {
        session,
        rule: decision.rule,
        facts: requestFacts(ctx),
        action: { tool: route.tool.name, method: action.method, path: action.path, query: route.query, mcpTool: action.mcpTool ?? null },
        digest,
        body: action.body,
        bodySha256: action.bodySha256 ?? null,
        requestId: ctx.requestId,
        signal: gone.signal,
        emit: (step) => ctx.sideEvents.push(stepEvent(deps, ctx, step)),
        // Normally lifecycle records go out with the tool.call record. A held call may wait long enough for a
        // person to decide meanwhile: write what happened so far now, so approval.request precedes
        // approval.approve in the stream (SPEC §13 order) and survives a crash during the hold.
        beforeWait: () => {
          for (const event of ctx.sideEvents.splice(0)) deps.audit.write(event);
        },
      },
    );
    if (outcome.kind === 'consumed') ctx.auditExtra.approval_id = outcome.approval.approvalId;
    else ctx.auditExtra.approval_not_required = true;
  } catch (err) {
    const approvalId = isGatewayError(err) ? err.fields.approval_id : undefined;
    if (approvalId !== undefined) ctx.auditExtra.approval_id = approvalId;
    throw err;
  } finally {
    ctx.res.off('close', onClose);
  }
}

function stepEvent(deps: PipelineDeps, ctx: RequestContext, step: ApprovalStep): AuditEvent {
  const session = need(ctx, 'session');
  const token = need(ctx, 'token');
  // The agent's call caused the request and the consumption; an expiry is the gateway's own doing.
  const actor = step.event === 'approval.expire' ? ({ id: 'epochgate', type: 'system' } as const) : ({ id: token.agentId, type: 'agent' } as const);
  return {
    event: step.event,
    time: deps.clock.now(),
    requestId: ctx.requestId,
    status: 'ok',
    disposition: APPROVAL_DISPOSITION[step.event],
    actor,
    ...(step.event === 'approval.expire' ? {} : { tokenJti: token.jti }),
    sessionId: session.sessionId,
    epoch: session.epoch,
    taskId: session.taskId,
    authorizations: [{ decision: 'require_approval', ruleId: step.approval.ruleId }],
    policyRevision: ctx.policy.revision,
    tool: step.approval.action.tool,
    method: ctx.req.method ?? 'GET',
    path: need(ctx, 'route').auditPath,
    srcIp: ctx.req.socket.remoteAddress ?? '',
    ...(ctx.traceId ? { traceId: ctx.traceId } : {}),
    extra: approvalAuditExtra(step.approval),
  };
}
