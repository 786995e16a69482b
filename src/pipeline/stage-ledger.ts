// Ledger / idempotency (SPEC §10). After authorize (it needs the decision: side_effects, idempotency) and
// before approval (a replayed call has no new side effect, so it must not need or consume a new approval)
// and forward (a reservation must exist before the tool can be called).
// Only side-effecting calls and calls with an Idempotency-Key touch the store: an ordinary read costs nothing.
import type { AuditEnvelope } from '../audit/envelope.js';
import { GatewayError } from '../errors/gateway-error.js';
import { parseIdempotencyKey } from '../ledger/idempotency-key.js';
import { ledgerReplayEvent, ledgerUnknownEvent, type LedgerExchange } from '../ledger/ledger-events.js';
import { reserveCall, type LedgerDecision } from '../ledger/ledger-flow.js';
import { writeReplay } from '../ledger/replay.js';
import { LedgerReservation } from '../ledger/reservation.js';
import { actionDigestOf } from './action-digest.js';
import { requestEnvelope } from './request-audit.js';
import { need, type RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';

export async function ledgerStage(deps: PipelineDeps, ctx: RequestContext): Promise<void> {
  const key = parseIdempotencyKey(ctx.req.headers['idempotency-key']);
  const decision = ctx.decision;
  // MCP session plumbing (no decision: stage-authorize) is not a tool call; a key on it is only validated.
  if (decision === undefined) return;
  if (key === undefined) {
    if (decision.idempotency === 'required') {
      throw new GatewayError('idempotency_key_missing', { detail: `Rule ${decision.rule?.id ?? ''} requires an Idempotency-Key header` });
    }
    if (!decision.sideEffects) return;
  } else {
    ctx.auditExtra.idempotency_key = key;
  }
  const decided = await reserve(deps, ctx, key);
  ctx.auditExtra.ledger_entry_id = decided.entry.entryId;
  ctx.auditExtra.ledger_occurrence = decided.occurrence;
  if (decided.kind === 'replay') return replay(deps, ctx, decided);
  const reservation = new LedgerReservation(deps.store.ledger, deps.clock, decided.entry, decided.occurrence, {
    onUnknown: (entry, reason, status) => ctx.sideEvents.push(ledgerUnknownEvent(entry, reason, ...exchangeOf(deps, ctx, status))),
    onError: (err) => deps.logger.error({ err, request_id: ctx.requestId, entry_id: decided.entry.entryId }, 'ledger entry could not be settled'),
  });
  ctx.ledger = reservation;
  // Settles what the forward stage did not (the call was refused by a later stage: released).
  ctx.finishers.push(() => reservation.settleIfOpen());
}

function reserve(deps: PipelineDeps, ctx: RequestContext, key: string | undefined): Promise<LedgerDecision> {
  const route = need(ctx, 'route');
  const session = need(ctx, 'session');
  const action = need(ctx, 'action');
  return reserveCall(deps.store.ledger, {
    sessionId: session.sessionId,
    epoch: session.epoch,
    tool: route.tool.name,
    idempotencyKey: key ?? null,
    fingerprint: actionDigestOf(ctx),
    method: action.method,
    path: action.path,
    mcpTool: action.mcpTool ?? null,
    requestId: ctx.requestId,
    replicaId: deps.replicaId,
    now: deps.clock.now(),
  });
}

/** The recorded answer, sent from the ledger: the tool is not called again (SPEC §10). */
function replay(deps: PipelineDeps, ctx: RequestContext, decided: LedgerDecision): void {
  ctx.auditExtra.replayed = true;
  const status = decided.entry.state === 'done' ? 200 : (decided.entry.status ?? 200);
  ctx.sideEvents.push(ledgerReplayEvent(decided.entry, decided.occurrence, ...exchangeOf(deps, ctx, status)));
  ctx.answered = 'ledger';
  writeReplay(ctx.res, decided.entry, {
    ...(ctx.mcpMessage && { mcp: { id: ctx.mcpMessage.id, method: ctx.mcpMessage.method } }),
    beforeEnd: ctx.beforeEnd,
  });
}

/** Written with the tool.call record, so it describes the same exchange (`status`: the answer's status). */
function exchangeOf(deps: PipelineDeps, ctx: RequestContext, status: number): [AuditEnvelope, LedgerExchange] {
  const now = deps.clock.now();
  return [requestEnvelope(ctx, now), { httpStatus: status, durationMs: now - ctx.startedAt }];
}
