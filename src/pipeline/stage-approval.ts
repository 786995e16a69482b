// Approval (SPEC §9): a require_approval decision never reaches the tool without consuming an approval
// for this exact call. The flow itself lives in approvals/approval-flow.ts; this stage maps the request
// onto it and turns each lifecycle step into an audit record written with the tool.call (SPEC §13).
import { APPROVAL_DISPOSITION, approvalAuditExtra } from '../approvals/approval-events.js';
import { resolveApproval, type ApprovalCall, type ApprovalFlowEnv, type ApprovalStep } from '../approvals/approval-flow.js';
import type { CompiledRule } from '../policy/types.js';
import { systemEnvelope } from '../audit/envelope.js';
import type { AuditEvent } from '../audit/types.js';
import { isGatewayError } from '../errors/gateway-error.js';
import { deniedError } from '../policy/denied-error.js';
import { admitSession } from '../sessions/session-access.js';
import { assertInScope } from './stage-fence.js';
import { actionDigestOf } from './action-digest.js';
import { ledgerStage } from './stage-ledger.js';
import { requestFacts } from './request-facts.js';
import { requestEnvelope } from './request-audit.js';
import { need, type RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';

export async function approvalStage(deps: PipelineDeps, ctx: RequestContext): Promise<void> {
  const decision = ctx.decision;
  if (decision?.effect !== 'require_approval' || decision.rule === null) return;
  const digest = actionDigestOf(ctx);
  ctx.auditExtra.action_digest = digest;
  const hold = holdSignal(ctx);
  try {
    const outcome = await resolveApproval(approvalEnv(deps), approvalCall(deps, ctx, decision.rule, digest, hold.signal));
    if (outcome.kind === 'consumed') ctx.auditExtra.approval_id = outcome.approval.approvalId;
    else ctx.auditExtra.approval_not_required = true;
  } catch (err) {
    if (err instanceof AnsweredFromLedger) return;
    const approvalId = isGatewayError(err) ? err.fields.approval_id : undefined;
    if (approvalId !== undefined) ctx.auditExtra.approval_id = approvalId;
    // SPEC §18: with the console enabled, approval_required points at the page where a person decides it.
    const consoleUrl = deps.consoleUrl?.() ?? null;
    if (isGatewayError(err) && err.code === 'approval_required' && typeof approvalId === 'string' && consoleUrl !== null) {
      err.fields.approval_url = `${consoleUrl}/approvals/${encodeURIComponent(approvalId)}`;
      ctx.urlElicitation = await declaredUrlElicitation(deps, ctx);
    }
    throw err;
  } finally {
    hold.dispose();
  }
}

function approvalEnv(deps: PipelineDeps): ApprovalFlowEnv {
  return { store: deps.store, clock: deps.clock, policy: deps.policy, ...(deps.wakeups ? { wakeups: deps.wakeups } : {}) };
}

/** SPEC §11: whether this MCP client declared URL-mode elicitation when its MCP session began. A store
 *  failure here only means the plain tool result (which names the URL too), never a different decision. */
async function declaredUrlElicitation(deps: PipelineDeps, ctx: RequestContext): Promise<boolean> {
  const mcpSession = ctx.mcpSession;
  if (mcpSession === undefined || !mcpSession.boundHere || ctx.mcpMessage?.id === undefined) return false;
  try {
    return await deps.store.mcpSessions.urlElicitation(need(ctx, 'route').tool.name, mcpSession.id);
  } catch {
    return false;
  }
}

function approvalCall(deps: PipelineDeps, ctx: RequestContext, rule: CompiledRule, digest: string, signal: AbortSignal): ApprovalCall {
  const ledgerHold = { released: false };
  const route = need(ctx, 'route');
  const action = need(ctx, 'action');
  return {
    session: need(ctx, 'session'),
    rule,
    facts: requestFacts(ctx),
    action: { tool: route.tool.name, method: action.method, path: action.path, query: route.query, mcpTool: action.mcpTool ?? null },
    digest,
    body: action.body,
    bodySha256: action.bodySha256 ?? null,
    requestId: ctx.requestId,
    signal,
    recheck: () => recheck(deps, ctx),
    beforeProceed: () => reserveAgain(deps, ctx, ledgerHold),
    emit: (step) => {
      ctx.sideEvents.push(stepEvent(deps, ctx, step));
      // The step is already in the store: a listener that re-reads now sees it.
      deps.approvalSignal?.notify();
    },
    // Normally lifecycle records go out with the tool.call record. A held call may wait long enough for a
    // person to decide meanwhile: write what happened so far now, so approval.request precedes
    // approval.approve in the stream (SPEC §13 order) and survives a crash during the hold.
    beforeWait: async () => {
      for (const event of ctx.sideEvents.splice(0)) deps.audit.write(event);
      ledgerHold.released = (await ctx.ledger?.releaseForHold()) ?? false;
    },
  };
}

/**
 * What ends a hold early: the client going away (its answer could not be delivered anyway), or the live-call
 * registry ending the call with the session's refusal when the session changes (SPEC §8).
 */
function holdSignal(ctx: RequestContext): { signal: AbortSignal; dispose: () => void } {
  const gone = new AbortController();
  const onClose = (): void => {
    if (!ctx.res.writableFinished) gone.abort();
  };
  const live = ctx.live;
  live?.throwIfEnded();
  ctx.res.once('close', onClose);
  live?.setPhase('held');
  return {
    signal: live ? AbortSignal.any([gone.signal, live.signal]) : gone.signal,
    dispose: () => {
      ctx.res.off('close', onClose);
      live?.setPhase('admitted');
    },
  };
}

/** Thrown out of the approval flow when a held call was answered from the ledger instead (below). */
class AnsweredFromLedger extends Error {}

/**
 * A held call let its ledger reservation go while it waited (LedgerReservation.releaseForHold). Only once it
 * is about to consume an approval (or needs none any more) does it reserve again, as if it arrived now
 * (SPEC §10: the ledger holds forwarded calls); a hold that ends without a decision writes nothing more. A
 * matching call completed meanwhile is answered from the ledger, consuming nothing; an in-progress or unknown
 * match, or a fenced session, refuses the call as the ledger stage would.
 */
async function reserveAgain(deps: PipelineDeps, ctx: RequestContext, ledgerHold: { released: boolean }): Promise<void> {
  if (!ledgerHold.released) return;
  ledgerHold.released = false;
  await ledgerStage(deps, ctx);
  if (ctx.answered !== undefined) throw new AnsweredFromLedger('answered from the ledger');
}

/**
 * SPEC §9.4: a call that waited is checked again from §6 step 5 on, against the session as the store holds
 * it now and the CURRENT policy: state and max_age, epoch, agent (enabled, not_before), scope, and a deny
 * that now applies. The approval flow re-validates the approval itself (approver roles, allow without one).
 */
async function recheck(deps: PipelineDeps, ctx: RequestContext): Promise<void> {
  const policy = deps.policy.current();
  const token = need(ctx, 'token');
  const { session, agent } = await admitSession(deps.lifecycle, policy, token, ctx.requestId);
  assertInScope(token, session, need(ctx, 'route').tool.name);
  const decision = policy.evaluate({ ...requestFacts(ctx), roles: agent.roles });
  if (decision.effect === 'deny') throw deniedError(decision);
}

function stepEvent(deps: PipelineDeps, ctx: RequestContext, step: ApprovalStep): AuditEvent {
  const envelope = requestEnvelope(ctx, deps.clock.now());
  return {
    event: step.event,
    // The agent's call caused the request and the consumption; an expiry is the gateway's own doing.
    ...(step.event === 'approval.expire' ? systemEnvelope(envelope) : envelope),
    status: 'ok',
    disposition: APPROVAL_DISPOSITION[step.event],
    authorizations: [{ decision: 'require_approval', ruleId: step.approval.ruleId }],
    tool: step.approval.action.tool,
    extra: approvalAuditExtra(step.approval),
  };
}
