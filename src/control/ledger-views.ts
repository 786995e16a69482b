// Response shapes of the ledger (SPEC §7 GET /v1/sessions/{id}/ledger, resolve, and resume's `ledger`
// summary). Never a body: status, digest and size only.
import type { LedgerEntry, LedgerSummary } from '../store/ledger-types.js';
import { rfc3339 } from '../util/clock.js';

export function ledgerEntryView(entry: LedgerEntry): Record<string, unknown> {
  return {
    entry_id: entry.entryId,
    kind: entry.kind === 'key' ? 'idempotency_key' : 'replay',
    state: entry.state,
    unknown_reason: entry.unknownReason,
    tool: entry.tool,
    method: entry.method,
    path: entry.path,
    mcp_tool: entry.mcpTool,
    idempotency_key: entry.idempotencyKey,
    occurrence: entry.occurrence,
    epoch: entry.epoch,
    checkpoint_seq: entry.kind === 'replay' ? entry.checkpointSeq : null,
    status: entry.status,
    body_sha256: entry.bodySha256,
    body_bytes: entry.bodyBytes,
    fingerprint: entry.fingerprint,
    created_at: rfc3339(entry.createdAt),
    updated_at: rfc3339(entry.updatedAt),
    expires_at: entry.expiresAt === null ? null : rfc3339(entry.expiresAt),
    resolved_by: entry.resolvedBy,
  };
}

/** Resume's `ledger` member: what the gateway will answer from its ledger if the worker repeats its calls. */
export function ledgerSummaryView(summary: LedgerSummary): Record<string, unknown> {
  return {
    since_checkpoint_seq: summary.checkpointSeq === 0 ? null : summary.checkpointSeq,
    count: summary.count,
    recent: summary.recent.map((entry) => ({
      entry_id: entry.entryId,
      method: entry.method,
      tool: entry.tool,
      path: entry.path,
      mcp_tool: entry.mcpTool,
      state: entry.state,
      status: entry.status,
      epoch: entry.epoch,
      at: rfc3339(entry.createdAt),
    })),
  };
}
