// Which audit records are notifications (SPEC §18). Every event the gateway records goes through the audit
// stream, so the audit hook (audit-hook.ts) is the one place to look: nothing can record one of these
// events without also notifying it. Only what happened counts: a refused approve (403) or a revoke of an
// unknown session is audited with its error code, and is not an approval or a revocation.
import type { AuditEvent } from '../audit/types.js';
import type { NotificationEventName } from '../config/types.js';

/** The facts a notification starts from: ids only; the details are read from the store (describe.ts). */
export interface NotificationFacts {
  readonly event: NotificationEventName;
  readonly occurredAt: number;
  readonly sessionId: string | null;
  readonly approvalId: string | null;
  /** The person who acted (approve, deny, revoke), or null. */
  readonly personId: string | null;
  readonly ledger: LedgerFacts | null;
}

export interface LedgerFacts {
  readonly entryId: string;
  readonly reason: string | null;
  readonly tool: string | null;
  readonly method: string | null;
  readonly path: string | null;
  readonly mcpTool: string | null;
}

const NOTIFIED = new Set<string>(['approval.request', 'approval.approve', 'approval.deny', 'approval.expire', 'session.revoke', 'ledger.unknown']);

export function notificationFacts(record: AuditEvent): NotificationFacts | null {
  if (!NOTIFIED.has(record.event)) return null;
  // ledger.unknown carries outcome_unknown as its status: the event is the unknown outcome itself.
  if (record.status !== 'ok' && record.event !== 'ledger.unknown') return null;
  const extra = record.extra ?? {};
  return {
    event: record.event as NotificationEventName,
    occurredAt: record.time,
    sessionId: record.sessionId ?? null,
    approvalId: text(extra.approval_id),
    personId: record.actor?.type === 'person' ? record.actor.id : null,
    ledger: record.event === 'ledger.unknown' ? ledgerFacts(record, extra) : null,
  };
}

function ledgerFacts(record: AuditEvent, extra: Readonly<Record<string, unknown>>): LedgerFacts | null {
  const entryId = text(extra.entry_id);
  if (entryId === null) return null;
  return {
    entryId,
    reason: text(extra.reason),
    tool: record.tool ?? null,
    // Start-up recovery has no request: the entry's own method and path are in extra.
    method: text(extra.http_method) ?? record.method ?? null,
    path: text(extra.tool_path) ?? record.path ?? null,
    mcpTool: text(extra.mcp_tool),
  };
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
