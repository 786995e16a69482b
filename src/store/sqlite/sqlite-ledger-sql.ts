// SQL of the SQLite ledger (SPEC §10), declared once as named statements and prepared when the store opens
// (sqlite-prepare.ts; its own file because sqlite-ledger.ts would pass 300 lines). Rows map to records in
// ../ledger-rows.ts, shared with PostgreSQL.
import type { LedgerRow } from '../ledger-rows.js';
import { pluck, sql } from './sqlite-prepare.js';
import type { SessionRow } from './sqlite-rows.js';

/** Every column but the body: listings never read bodies. */
const LIST_COLUMNS = `ord, entry_id, session_id, kind, checkpoint_seq, tool, idem_key, fingerprint, occurrence, epoch,
  attempt_epoch, attempts, state, unknown_reason, attempt, replica_id, method, path, mcp_tool, status, NULL AS headers, NULL AS body,
  body_sha256, body_bytes, created_at, updated_at, expires_at, resolved_by, closed_at`;

/** Closed entries deleted per purge at most; a full batch makes the next reservation purge again. */
export const PURGE_BATCH = 500;

export const LQ = {
  selectSession: sql<unknown[], SessionRow>('SELECT * FROM sessions WHERE session_id = ?'),
  window: pluck<unknown[], number>('SELECT coalesce(max(seq), 0) FROM checkpoints WHERE session_id = ?'),
  // Counters of earlier windows and epochs are deleted by triggers (migration 5), never here.
  selectCounter: pluck<unknown[], number>(
    'SELECT calls FROM ledger_counters WHERE session_id = ? AND checkpoint_seq = ? AND epoch = ? AND fingerprint = ?',
  ),
  setCounter: sql(
    `INSERT INTO ledger_counters (session_id, checkpoint_seq, epoch, fingerprint, calls) VALUES (@session_id, @window, @epoch, @fingerprint, @calls)
     ON CONFLICT (session_id, checkpoint_seq, epoch, fingerprint) DO UPDATE SET calls = excluded.calls`,
  ),
  decrementCounter: sql(
    `UPDATE ledger_counters SET calls = max(calls - 1, 0)
     WHERE session_id = ? AND checkpoint_seq = ? AND epoch = ? AND fingerprint = ?`,
  ),
  // One seek in ledger_occurrence (ledger-occurrence.ts explains why this is the k-th earlier call).
  atOccurrence: sql<unknown[], LedgerRow>(
    `SELECT * FROM ledger_entries
     WHERE kind = 'replay' AND session_id = ? AND checkpoint_seq = ? AND fingerprint = ? AND occurrence = ?
     ORDER BY ord LIMIT 1`,
  ),
  // max() over an equality prefix of ledger_occurrence: one seek, not a count.
  lastOccurrence: pluck<unknown[], number>(
    `SELECT coalesce(max(occurrence), 0) FROM ledger_entries WHERE kind = 'replay' AND session_id = ? AND checkpoint_seq = ? AND fingerprint = ?`,
  ),
  // A released entry gives its number back: the later ones (calls reserved while it was in flight) move down.
  shiftDown: sql(
    `UPDATE ledger_entries SET occurrence = occurrence - 1
     WHERE kind = 'replay' AND session_id = ? AND checkpoint_seq = ? AND fingerprint = ? AND occurrence > ?`,
  ),
  // SPEC §10 retention: metadata of closed windows and final sessions, ledger_retention after closing.
  // Bounded (PURGE_BATCH rows), so one reservation never pays for a week of closed windows at once.
  purgeClosed: sql(
    `DELETE FROM ledger_entries WHERE ord IN (
       SELECT ord FROM ledger_entries WHERE closed_at <= ? AND state <> 'in_flight' LIMIT ${PURGE_BATCH})`,
  ),
  selectKey: sql<unknown[], LedgerRow>(
    `SELECT * FROM ledger_entries WHERE kind = 'key' AND session_id = ? AND tool = ? AND idem_key = ?`,
  ),
  purgeExpiredKeys: sql(`DELETE FROM ledger_entries WHERE kind = 'key' AND expires_at <= ? AND state <> 'in_flight'`),
  deleteEntry: sql('DELETE FROM ledger_entries WHERE entry_id = ?'),
  insert: sql<unknown[], LedgerRow>(
    `INSERT INTO ledger_entries (entry_id, session_id, kind, checkpoint_seq, tool, idem_key, fingerprint, occurrence, epoch,
       attempt_epoch, attempts, state, attempt, replica_id, method, path, mcp_tool, created_at, updated_at, expires_at)
     VALUES (@entry_id, @session_id, @kind, @checkpoint_seq, @tool, @idem_key, @fingerprint, @occurrence, @epoch,
       @epoch, 1, 'in_flight', @attempt, @replica_id, @method, @path, @mcp_tool, @now, @now, @expires_at)
     RETURNING *`,
  ),
  take: sql<unknown[], LedgerRow>(
    `UPDATE ledger_entries SET state = 'in_flight', unknown_reason = NULL, attempt = @attempt, replica_id = @replica_id,
       attempt_epoch = @epoch, attempts = attempts + 1, updated_at = @now
     WHERE entry_id = @entry_id AND state = 'retry' RETURNING *`,
  ),
  selectHeld: sql<unknown[], LedgerRow>(`SELECT * FROM ledger_entries WHERE entry_id = ? AND state = 'in_flight' AND attempt = ?`),
  complete: sql(
    `UPDATE ledger_entries SET state = @state, unknown_reason = @unknown_reason, status = @status, headers = @headers,
       body = CASE WHEN closed_at IS NULL THEN @body END, body_sha256 = @body_sha256, body_bytes = @body_bytes, updated_at = @now
     WHERE entry_id = @entry_id AND state = 'in_flight' AND attempt = @attempt`,
  ),
  markUnknown: sql(
    `UPDATE ledger_entries SET state = 'unknown', unknown_reason = @reason, updated_at = @now
     WHERE entry_id = @entry_id AND state = 'in_flight' AND attempt = @attempt`,
  ),
  backToRetry: sql(`UPDATE ledger_entries SET state = 'retry', attempts = attempts - 1, updated_at = ? WHERE entry_id = ?`),
  selectEntry: sql<unknown[], LedgerRow>(`SELECT ${LIST_COLUMNS} FROM ledger_entries WHERE entry_id = ? AND session_id = ?`),
  resolve: sql<unknown[], LedgerRow>(
    `UPDATE ledger_entries SET state = @resolution, resolved_by = @by, updated_at = @now
     WHERE entry_id = @entry_id RETURNING ${LIST_COLUMNS}`,
  ),
  list: sql<unknown[], LedgerRow>(
    `SELECT ${LIST_COLUMNS} FROM ledger_entries
     WHERE session_id = @session_id AND ((kind = 'replay' AND checkpoint_seq = @window) OR (kind = 'key' AND expires_at > @now))
     ORDER BY ord`,
  ),
  countWindow: pluck<unknown[], number>(`SELECT count(*) FROM ledger_entries WHERE kind = 'replay' AND session_id = ? AND checkpoint_seq = ?`),
  recentWindow: sql<unknown[], LedgerRow>(
    `SELECT ${LIST_COLUMNS} FROM ledger_entries WHERE kind = 'replay' AND session_id = ? AND checkpoint_seq = ?
     ORDER BY ord DESC LIMIT ?`,
  ),
  recoverInFlight: sql<unknown[], LedgerRow>(
    `UPDATE ledger_entries SET state = 'unknown', unknown_reason = 'gateway_restart', updated_at = ?
     WHERE state = 'in_flight'
       AND replica_id NOT IN (SELECT replica_id FROM replicas WHERE stopped_at IS NULL)
     RETURNING ${LIST_COLUMNS}`,
  ),
} as const;
