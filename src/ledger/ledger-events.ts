// Audit records of the ledger (SPEC §13): ledger.replay and ledger.unknown. Ids, codes and digests only.
import type { AuditEnvelope } from '../audit/envelope.js';
import type { AuditEvent } from '../audit/types.js';
import type { LedgerEntry, UnknownReason } from '../store/ledger-types.js';

/** The data-plane exchange an event belongs to; absent for start-up recovery (no request). */
export interface LedgerExchange {
  /** The answer's status (a replay's recorded status). */
  readonly httpStatus: number;
  readonly durationMs: number;
}

export function ledgerReplayEvent(entry: LedgerEntry, occurrence: number, envelope: AuditEnvelope, exchange?: LedgerExchange): AuditEvent {
  return ledgerEvent('ledger.replay', entry, { envelope, exchange }, 'ok', {
    occurrence,
    recorded_epoch: entry.epoch,
    ...(entry.state === 'done' ? { resolution: 'done' } : { recorded_status: entry.status }),
  });
}

export function ledgerUnknownEvent(entry: LedgerEntry, reason: UnknownReason, envelope: AuditEnvelope, exchange?: LedgerExchange): AuditEvent {
  return ledgerEvent('ledger.unknown', entry, { envelope, exchange }, 'outcome_unknown', { reason, occurrence: entry.occurrence, recorded_epoch: entry.epoch });
}

function ledgerEvent(
  event: 'ledger.replay' | 'ledger.unknown',
  entry: LedgerEntry,
  { envelope, exchange }: { envelope: AuditEnvelope; exchange: LedgerExchange | undefined },
  status: AuditEvent['status'],
  extra: Record<string, unknown>,
): AuditEvent {
  return {
    event,
    ...envelope,
    status,
    disposition: event === 'ledger.replay' ? 'allowed' : 'delayed',
    sessionId: entry.sessionId,
    epoch: envelope.epoch ?? entry.epoch,
    tool: entry.tool,
    // The method the entry records (the call's, as reserved); without an exchange there is no HTTP side.
    ...(exchange ? { method: entry.method, httpStatus: exchange.httpStatus, durationMs: exchange.durationMs } : {}),
    extra: {
      ...(exchange ? {} : { http_method: entry.method, tool_path: entry.path }),
      entry_id: entry.entryId,
      ledger_kind: entry.kind,
      ...(entry.idempotencyKey !== null ? { idempotency_key: entry.idempotencyKey } : {}),
      ...(entry.mcpTool !== null ? { mcp_tool: entry.mcpTool } : {}),
      ...(entry.bodySha256 !== null ? { body_sha256: entry.bodySha256 } : {}),
      ...extra,
    },
  };
}
