// SQL of the PostgreSQL ledger (SPEC §10, §17), declared once as named statements (rows map to records in
// ../ledger-rows.ts, shared with SQLite). Every statement that a reservation runs is an index seek (DESIGN rule 16).
import { sql } from './pg-db.js';


/** Every column but the response: listings never read bodies. */
const BARE = `ord, entry_id, session_id, kind, checkpoint_seq, tool, idem_key, fingerprint, occurrence, epoch,
  attempt_epoch, attempts, state, unknown_reason, attempt, replica_id, method, path, mcp_tool, status, NULL::text AS headers,
  NULL::bytea AS body, body_sha256, body_bytes, created_at, updated_at, expires_at, resolved_by, closed_at`;

/** Closed entries deleted per purge at most; a full batch makes the next reservation purge again. */
export const PURGE_BATCH = 500;

export const LQ = {
  // The fence of every reservation: the session row, locked until the transaction ends, so a concurrent
  // resume, checkpoint, state change or reservation of the same session waits (and then sees ours).
  lockSession: sql('ledger_lock_session', 'SELECT * FROM sessions WHERE session_id = $1 FOR NO KEY UPDATE'),
  // The occurrence rule's three reads in one round trip: k - 1 (the counter), the entry at occurrence k,
  // and the highest occurrence. Each part is one index seek.
  probe: sql(
    'ledger_probe',
    `SELECT c.calls,
       coalesce((SELECT max(occurrence) FROM ledger_entries
                 WHERE kind = 'replay' AND session_id = $1 AND checkpoint_seq = $2 AND fingerprint = $4), 0) AS last,
       e.*
     FROM (SELECT coalesce((SELECT calls FROM ledger_counters
                            WHERE session_id = $1 AND checkpoint_seq = $2 AND epoch = $3 AND fingerprint = $4), 0) AS calls) c
     LEFT JOIN LATERAL (
       SELECT * FROM ledger_entries
       WHERE kind = 'replay' AND session_id = $1 AND checkpoint_seq = $2 AND fingerprint = $4 AND occurrence = c.calls + 1
       ORDER BY ord LIMIT 1) e ON true`,
  ),
  selectCounter: sql(
    'ledger_counter',
    'SELECT calls FROM ledger_counters WHERE session_id = $1 AND checkpoint_seq = $2 AND epoch = $3 AND fingerprint = $4',
  ),
  setCounter: sql(
    'ledger_set_counter',
    `INSERT INTO ledger_counters (session_id, checkpoint_seq, epoch, fingerprint, calls) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (session_id, checkpoint_seq, epoch, fingerprint) DO UPDATE SET calls = excluded.calls`,
  ),
  decrementCounter: sql(
    'ledger_decrement_counter',
    `UPDATE ledger_counters SET calls = greatest(calls - 1, 0)
     WHERE session_id = $1 AND checkpoint_seq = $2 AND epoch = $3 AND fingerprint = $4`,
  ),
  atOccurrence: sql(
    'ledger_at_occurrence',
    `SELECT * FROM ledger_entries
     WHERE kind = 'replay' AND session_id = $1 AND checkpoint_seq = $2 AND fingerprint = $3 AND occurrence = $4
     ORDER BY ord LIMIT 1`,
  ),
  lastOccurrence: sql(
    'ledger_last_occurrence',
    `SELECT coalesce(max(occurrence), 0) AS last FROM ledger_entries
     WHERE kind = 'replay' AND session_id = $1 AND checkpoint_seq = $2 AND fingerprint = $3`,
  ),
  // A released entry gives its number back: the later ones (calls reserved while it was in flight) move down.
  shiftDown: sql(
    'ledger_shift_down',
    `UPDATE ledger_entries SET occurrence = occurrence - 1
     WHERE kind = 'replay' AND session_id = $1 AND checkpoint_seq = $2 AND fingerprint = $3 AND occurrence > $4`,
  ),
  purgeClosed: sql(
    'ledger_purge_closed',
    `DELETE FROM ledger_entries WHERE ord IN (
       SELECT ord FROM ledger_entries WHERE closed_at <= $1 AND state <> 'in_flight' LIMIT ${PURGE_BATCH})`,
  ),
  purgeExpiredKeys: sql(
    'ledger_purge_keys',
    `DELETE FROM ledger_entries WHERE kind = 'key' AND expires_at <= $1 AND state <> 'in_flight'`,
  ),
  selectKey: sql('ledger_key', `SELECT * FROM ledger_entries WHERE kind = 'key' AND session_id = $1 AND tool = $2 AND idem_key = $3`),
  deleteEntry: sql('ledger_delete', 'DELETE FROM ledger_entries WHERE entry_id = $1'),
  insert: sql(
    'ledger_insert',
    `INSERT INTO ledger_entries (entry_id, session_id, kind, checkpoint_seq, tool, idem_key, fingerprint, occurrence, epoch,
       attempt_epoch, attempts, state, attempt, replica_id, method, path, mcp_tool, created_at, updated_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1, 'in_flight', $10, $11, $12, $13, $14, $15, $15, $16)
     RETURNING *`,
  ),
  // A new occurrence entry and its counter in one statement (the rule sets the counter, then inserts).
  insertCounted: sql(
    'ledger_insert_counted',
    `WITH counter AS (
       INSERT INTO ledger_counters (session_id, checkpoint_seq, epoch, fingerprint, calls) VALUES ($2, $4, $9, $7, $17)
       ON CONFLICT (session_id, checkpoint_seq, epoch, fingerprint) DO UPDATE SET calls = excluded.calls)
     INSERT INTO ledger_entries (entry_id, session_id, kind, checkpoint_seq, tool, idem_key, fingerprint, occurrence, epoch,
       attempt_epoch, attempts, state, attempt, replica_id, method, path, mcp_tool, created_at, updated_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1, 'in_flight', $10, $11, $12, $13, $14, $15, $15, $16)
     RETURNING *`,
  ),
  take: sql(
    'ledger_take',
    `UPDATE ledger_entries SET state = 'in_flight', unknown_reason = NULL, attempt = $2, attempt_epoch = $3,
       attempts = attempts + 1, replica_id = $4, updated_at = $5
     WHERE entry_id = $1 AND state = 'retry' RETURNING *`,
  ),
  sessionOfEntry: sql('ledger_session_of_entry', 'SELECT session_id FROM ledger_entries WHERE entry_id = $1'),
  selectHeld: sql(
    'ledger_held',
    `SELECT * FROM ledger_entries WHERE entry_id = $1 AND state = 'in_flight' AND attempt = $2 FOR UPDATE`,
  ),
  complete: sql(
    'ledger_complete',
    `UPDATE ledger_entries SET state = $3, unknown_reason = $4, status = $5, headers = $6,
       body = CASE WHEN closed_at IS NULL THEN $7::bytea END, body_sha256 = $8, body_bytes = $9, updated_at = $10
     WHERE entry_id = $1 AND state = 'in_flight' AND attempt = $2`,
  ),
  markUnknown: sql(
    'ledger_mark_unknown',
    `UPDATE ledger_entries SET state = 'unknown', unknown_reason = $3, updated_at = $4
     WHERE entry_id = $1 AND state = 'in_flight' AND attempt = $2`,
  ),
  backToRetry: sql('ledger_back_to_retry', `UPDATE ledger_entries SET state = 'retry', attempts = attempts - 1, updated_at = $2 WHERE entry_id = $1`),
  selectEntryForUpdate: sql('ledger_entry_for_update', `SELECT ${BARE} FROM ledger_entries WHERE entry_id = $1 AND session_id = $2 FOR UPDATE`),
  resolve: sql(
    'ledger_resolve',
    `UPDATE ledger_entries SET state = $2, resolved_by = $3, updated_at = $4 WHERE entry_id = $1 RETURNING ${BARE}`,
  ),
  list: sql(
    'ledger_list',
    `SELECT ${BARE} FROM ledger_entries
     WHERE session_id = $1 AND (
       (kind = 'replay' AND checkpoint_seq = coalesce((SELECT checkpoint_seq FROM sessions WHERE session_id = $1), 0))
       OR (kind = 'key' AND expires_at > $2))
     ORDER BY ord`,
  ),
  window: sql('ledger_window', 'SELECT checkpoint_seq FROM sessions WHERE session_id = $1'),
  countWindow: sql('ledger_count_window', `SELECT count(*) AS n FROM ledger_entries WHERE kind = 'replay' AND session_id = $1 AND checkpoint_seq = $2`),
  recentWindow: sql(
    'ledger_recent_window',
    `SELECT ${BARE} FROM ledger_entries WHERE kind = 'replay' AND session_id = $1 AND checkpoint_seq = $2 ORDER BY ord DESC LIMIT $3`,
  ),
  // Only entries whose replica has stopped (the replicas table says so): another replica's live calls
  // are never declared unknown because this one started (SPEC §17).
  recoverInFlight: sql(
    'ledger_recover_in_flight',
    `UPDATE ledger_entries l SET state = 'unknown', unknown_reason = 'gateway_restart', updated_at = $1
     WHERE l.state = 'in_flight'
       AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.replica_id = l.replica_id AND r.stopped_at IS NULL)
     RETURNING ${BARE}`,
  ),
} as const;
