// The idempotency ledger seam (SPEC §10). Two kinds of entry share one record shape:
// - 'replay': the occurrence ledger of side-effecting calls forwarded since the last checkpoint, for
//   unmodified agents (no Idempotency-Key). An entry belongs to the window opened by the checkpoint whose
//   seq it carries (0 = before the first checkpoint); appending a checkpoint opens a new, empty window.
// - 'key': one record per (session, tool, Idempotency-Key), kept 24 h across epochs, windows and restarts.
// Every reservation is ONE atomic store operation that first checks that the session is active at the
// caller's epoch (DESIGN rule 10): a worker fenced off by a concurrent resume can never reserve, and so
// never reach the upstream.
import type { SessionRecord } from './types.js';

/** Response header map (same shape as upstream/headers HeaderMap; the store depends on nothing above it). */
export type RecordedHeaders = Record<string, string | string[]>;

export type LedgerKind = 'replay' | 'key';

/**
 * in_flight: reserved, the call is (or may be) at the upstream. completed: outcome recorded, replayable.
 * unknown: the call may have had its side effect but no replayable outcome exists (timeout, reset, gateway
 * stopped, body over 1 MiB). retry / done: an admin's resolution of an unknown entry.
 */
export type LedgerState = 'in_flight' | 'completed' | 'unknown' | 'retry' | 'done';

export type UnknownReason = 'upstream_timeout' | 'upstream_reset' | 'aborted_mid_response' | 'gateway_restart' | 'body_too_large';

export interface RecordedResponse {
  readonly status: number;
  /** Relayed response headers (hop-by-hop already stripped; X-Request-Id never kept). */
  readonly headers: RecordedHeaders;
  /** The whole body, when it was at most 1 MiB; null when only its digest was kept. */
  readonly body: Buffer | null;
}

export interface LedgerEntry {
  readonly entryId: string;
  readonly sessionId: string;
  readonly kind: LedgerKind;
  /** Checkpoint seq that opened the window this entry belongs to (kind replay). */
  readonly checkpointSeq: number;
  readonly tool: string;
  readonly idempotencyKey: string | null;
  readonly fingerprint: string;
  /** Position among the window's entries with this fingerprint when it was appended (1-based). */
  readonly occurrence: number;
  /** Epoch of the call that created the entry (it orders the entries a later epoch is matched against). */
  readonly epoch: number;
  readonly state: LedgerState;
  readonly unknownReason: UnknownReason | null;
  /** Request id of the call currently or last holding the reservation. */
  readonly attempt: string;
  /** The gateway process (SPEC §17 replica id) that holds or last held the reservation. */
  readonly replicaId: string;
  readonly method: string;
  readonly path: string;
  readonly mcpTool: string | null;
  readonly status: number | null;
  readonly bodySha256: string | null;
  readonly bodyBytes: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Keys only: the record is forgotten at this time (SPEC §10: 24 h). */
  readonly expiresAt: number | null;
  readonly resolvedBy: string | null;
  /** Present on reserve results that replay a completed entry; never on listings. */
  readonly response?: RecordedResponse;
}

export interface ReserveRequest {
  readonly sessionId: string;
  /** The epoch the caller was admitted at: checked in the same operation as the reservation. */
  readonly epoch: number;
  readonly tool: string;
  /** null: occurrence ledger; else the validated Idempotency-Key. */
  readonly idempotencyKey: string | null;
  readonly fingerprint: string;
  readonly method: string;
  readonly path: string;
  readonly mcpTool: string | null;
  /** Request id: the reservation's owner, required by complete/markUnknown/release. */
  readonly attempt: string;
  /** This gateway process: the entry is marked unknown only once that replica is gone. */
  readonly replicaId: string;
  /** Id for a new entry, if one is created. */
  readonly newEntryId: string;
  readonly now: number;
  /** Lifetime of a new key record (SPEC §10: 24 h). */
  readonly keyTtlMs: number;
}

export type ReserveResult =
  /** Not active at that epoch (current: what the session is now, null when unknown). Nothing was written. */
  | { readonly kind: 'fenced'; readonly current: SessionRecord | null }
  /** Reserved (a new entry, or one an admin marked retry): forward the call and settle the entry. */
  | { readonly kind: 'forward'; readonly entry: LedgerEntry; readonly occurrence: number }
  /** Answer from the entry (completed: entry.response is set; done: the admin's resolution). */
  | { readonly kind: 'replay'; readonly entry: LedgerEntry; readonly occurrence: number }
  | { readonly kind: 'in_progress'; readonly entry: LedgerEntry }
  | { readonly kind: 'unknown'; readonly entry: LedgerEntry }
  /** Same key, other fingerprint. */
  | { readonly kind: 'key_reused'; readonly entry: LedgerEntry };

export interface CompletedOutcome extends RecordedResponse {
  readonly bodySha256: string;
  readonly bodyBytes: number;
  readonly now: number;
}

export type ResolveResult =
  | { readonly ok: true; readonly entry: LedgerEntry; readonly previous: LedgerState }
  | { readonly ok: false; readonly current: LedgerEntry | null };

export interface LedgerSummary {
  /** Seq of the checkpoint that opened the current window (0: none yet). */
  readonly checkpointSeq: number;
  /** Side-effecting calls recorded in the current window. */
  readonly count: number;
  /** The last `recent` of them, oldest first. */
  readonly recent: readonly LedgerEntry[];
}

export interface LedgerStore {
  /** Epoch check + lookup/insert, atomically. See ReserveResult. */
  reserve(request: ReserveRequest): Promise<ReserveResult>;
  /** Records the upstream's answer iff `attempt` still holds the entry in flight. A null body (over 1 MiB)
   *  makes the entry unknown (body_too_large) with status and digest kept. */
  complete(entryId: string, attempt: string, outcome: CompletedOutcome): Promise<boolean>;
  /** In flight → unknown iff `attempt` holds it. */
  markUnknown(entryId: string, attempt: string, reason: UnknownReason, now: number): Promise<boolean>;
  /** The call never reached the upstream: a new entry disappears (its occurrence slot is given back); a
   *  retried one goes back to retry. Iff `attempt` holds it in flight. */
  release(entryId: string, attempt: string, now: number): Promise<boolean>;
  /** Admin resolution (SPEC §10) of an unknown (or retry) entry of that session. */
  resolve(sessionId: string, entryId: string, resolution: 'retry' | 'done', by: string, now: number): Promise<ResolveResult>;
  /** The current window's entries and the session's live key records, oldest first, without bodies. */
  list(sessionId: string, now: number): Promise<LedgerEntry[]>;
  summary(sessionId: string, recent: number): Promise<LedgerSummary>;
  /** Every entry left in flight by a replica that is stopped (replicas sub-store) becomes unknown
   *  (gateway_restart); returned. Entries of running replicas are never touched. Idempotent. */
  recoverInFlight(now: number): Promise<LedgerEntry[]>;
}
