// Ledger row ↔ record mapping, shared by the SQL backends (SQLite and PostgreSQL use the same columns).
import type { LedgerEntry, LedgerKind, LedgerState, RecordedHeaders, UnknownReason } from './ledger-types.js';

export interface LedgerRow {
  ord: number;
  entry_id: string;
  session_id: string;
  kind: LedgerKind;
  checkpoint_seq: number;
  tool: string;
  idem_key: string | null;
  fingerprint: string;
  occurrence: number;
  epoch: number;
  attempt_epoch: number;
  attempts: number;
  state: LedgerState;
  unknown_reason: UnknownReason | null;
  attempt: string;
  replica_id: string;
  method: string;
  path: string;
  mcp_tool: string | null;
  status: number | null;
  headers: string | null;
  body: Buffer | null;
  body_sha256: string | null;
  body_bytes: number | null;
  created_at: number;
  updated_at: number;
  expires_at: number | null;
  resolved_by: string | null;
  closed_at: number | null;
}

/** The record; with `withResponse`, the recorded response too (replays only). */
export function toLedgerEntry(row: LedgerRow, withResponse = false): LedgerEntry {
  const entry: LedgerEntry = {
    entryId: row.entry_id,
    sessionId: row.session_id,
    kind: row.kind,
    checkpointSeq: row.checkpoint_seq,
    tool: row.tool,
    idempotencyKey: row.idem_key,
    fingerprint: row.fingerprint,
    occurrence: row.occurrence,
    epoch: row.epoch,
    state: row.state,
    unknownReason: row.unknown_reason,
    attempt: row.attempt,
    replicaId: row.replica_id,
    method: row.method,
    path: row.path,
    mcpTool: row.mcp_tool,
    status: row.status,
    bodySha256: row.body_sha256,
    bodyBytes: row.body_bytes,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
    resolvedBy: row.resolved_by,
  };
  if (withResponse && row.status !== null && row.headers !== null) {
    const headers = JSON.parse(row.headers) as RecordedHeaders;
    return Object.freeze({ ...entry, response: { status: row.status, headers, body: row.body } });
  }
  return Object.freeze(entry);
}
