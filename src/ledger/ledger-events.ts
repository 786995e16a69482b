// Audit records of the ledger (SPEC §13): ledger.replay and ledger.unknown. Ids, codes and digests only.
import type { AuditEvent } from '../audit/types.js';
import type { LedgerEntry, UnknownReason } from '../store/ledger-types.js';

export interface LedgerEventContext {
  readonly time: number;
  readonly requestId?: string;
  readonly actor: NonNullable<AuditEvent['actor']>;
  readonly tokenJti?: string;
  readonly epoch?: number;
  readonly taskId?: string;
  readonly policyRevision?: string;
  /** The data-plane exchange the event belongs to; absent for start-up recovery (no request). */
  readonly http?: {
    /** As audited: never a token. */
    readonly path: string;
    readonly status: number;
    readonly durationMs: number;
    readonly srcIp: string;
  };
}

export function ledgerReplayEvent(entry: LedgerEntry, occurrence: number, ctx: LedgerEventContext): AuditEvent {
  return ledgerEvent('ledger.replay', entry, ctx, 'ok', {
    occurrence,
    recorded_epoch: entry.epoch,
    ...(entry.state === 'done' ? { resolution: 'done' } : { recorded_status: entry.status }),
  });
}

export function ledgerUnknownEvent(entry: LedgerEntry, reason: UnknownReason, ctx: LedgerEventContext): AuditEvent {
  return ledgerEvent('ledger.unknown', entry, ctx, 'outcome_unknown', { reason, occurrence: entry.occurrence, recorded_epoch: entry.epoch });
}

function ledgerEvent(
  event: 'ledger.replay' | 'ledger.unknown',
  entry: LedgerEntry,
  ctx: LedgerEventContext,
  status: AuditEvent['status'],
  extra: Record<string, unknown>,
): AuditEvent {
  return {
    event,
    time: ctx.time,
    ...(ctx.requestId !== undefined ? { requestId: ctx.requestId } : {}),
    status,
    disposition: event === 'ledger.replay' ? 'allowed' : 'delayed',
    actor: ctx.actor,
    sessionId: entry.sessionId,
    ...(ctx.tokenJti !== undefined ? { tokenJti: ctx.tokenJti } : {}),
    epoch: ctx.epoch ?? entry.epoch,
    ...(ctx.taskId !== undefined ? { taskId: ctx.taskId } : {}),
    ...(ctx.policyRevision !== undefined ? { policyRevision: ctx.policyRevision } : {}),
    tool: entry.tool,
    ...(ctx.http
      ? { method: entry.method, path: ctx.http.path, httpStatus: ctx.http.status, durationMs: ctx.http.durationMs, srcIp: ctx.http.srcIp }
      : {}),
    extra: {
      ...(ctx.http ? {} : { http_method: entry.method, tool_path: entry.path }),
      entry_id: entry.entryId,
      ledger_kind: entry.kind,
      ...(entry.idempotencyKey !== null ? { idempotency_key: entry.idempotencyKey } : {}),
      ...(entry.mcpTool !== null ? { mcp_tool: entry.mcpTool } : {}),
      ...(entry.bodySha256 !== null ? { body_sha256: entry.bodySha256 } : {}),
      ...extra,
    },
  };
}
