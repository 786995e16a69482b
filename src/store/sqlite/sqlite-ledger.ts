// The SQLite LedgerStore (SPEC §10). A reservation runs inside ONE immediate transaction: the session's
// state and epoch are checked, the window (latest checkpoint seq) read and the entry looked up or inserted
// under the same write lock, so neither a concurrent resume nor a concurrent checkpoint (another connection
// or process included) can interleave (DESIGN rule 10). Reservations, completions, releases and
// unknown-marks go through the group commit (sqlite-write-batch.ts): that transaction is shared with the
// other hot-path writes of the same event-loop turn, each in its own savepoint, and the caller hears back
// only after the COMMIT.
import type Database from 'better-sqlite3';
import { actionFor, canResolve, DEFAULT_LEDGER_RETENTION_MS, LEDGER_PURGE_INTERVAL_MS } from '../ledger-rules.js';
import { runOccurrenceSync, type OccurrenceTable } from '../ledger-occurrence.js';
import type {
  CompletedOutcome,
  LedgerEntry,
  LedgerStore,
  LedgerSummary,
  ReserveRequest,
  ReserveResult,
  ResolveResult,
  UnknownReason,
} from '../ledger-types.js';
import { toSession } from './sqlite-rows.js';
import { toLedgerEntry, type LedgerRow } from '../ledger-rows.js';
import { LQ, PURGE_BATCH } from './sqlite-ledger-sql.js';
import { prepareStatements, type Statements } from './sqlite-prepare.js';
import type { StoreGuard } from '../guard.js';
import type { BatchedWrite } from './sqlite-write-batch.js';

export class SqliteLedger implements LedgerStore {
  private readonly sql: Statements<typeof LQ>;
  private readonly occurrences: OccurrenceTable<LedgerRow>;
  /** Set inside the reservation's transaction when the last purge was cut at PURGE_BATCH. */
  private purgeBehind = false;
  private readonly resolveTx: Database.Transaction<(s: string, e: string, r: 'retry' | 'done', by: string, now: number) => ResolveResult>;
  private nextPurge = 0;

  /**
   * @param guard runs reads and rare writes at once (their own transaction where they need one)
   * @param write runs a hot-path write in the next group commit (sqlite-write-batch.ts), inside its
   *   IMMEDIATE transaction; the promise settles after the COMMIT
   */
  constructor(
    db: Database.Database,
    private readonly guard: StoreGuard,
    private readonly write: BatchedWrite,
    private readonly retentionMs = DEFAULT_LEDGER_RETENTION_MS,
  ) {
    const sql = prepareStatements(db, LQ);
    this.sql = sql;
    this.occurrences = this.occurrenceTable();
    this.resolveTx = db.transaction((sessionId: string, entryId: string, resolution: 'retry' | 'done', by: string, now: number): ResolveResult => {
      const row = sql.selectEntry.get(entryId, sessionId);
      if (!row) return { ok: false, current: null };
      const current = toLedgerEntry(row);
      if (!canResolve(current, resolution)) return { ok: false, current };
      const updated = sql.resolve.get({ entry_id: entryId, resolution, by, now })!;
      return { ok: true, entry: toLedgerEntry(updated), previous: current.state };
    });
  }

  async reserve(r: ReserveRequest): Promise<ReserveResult> {
    let purge = false;
    // The batch's transaction is IMMEDIATE: the write lock is held before the epoch is read, so the check
    // and the insert are one step.
    const result = await this.write(() => {
      purge = r.now >= this.nextPurge;
      return this.reserveInTransaction(r, purge);
    });
    // Advanced only after the commit: a purge rolled back with its batch is retried by the next reservation.
    if (purge) this.nextPurge = this.purgeBehind ? r.now : r.now + LEDGER_PURGE_INTERVAL_MS;
    return result;
  }

  complete(entryId: string, attempt: string, outcome: CompletedOutcome): Promise<boolean> {
    return this.write(() => {
      const recorded = outcome.body !== null;
      const result = this.sql.complete.run({
        entry_id: entryId,
        attempt,
        state: recorded ? 'completed' : 'unknown',
        unknown_reason: recorded ? null : 'body_too_large',
        status: outcome.status,
        headers: JSON.stringify(outcome.headers),
        body: outcome.body,
        body_sha256: outcome.bodySha256,
        body_bytes: outcome.bodyBytes,
        now: outcome.now,
      });
      return result.changes === 1;
    });
  }

  markUnknown(entryId: string, attempt: string, reason: UnknownReason, now: number): Promise<boolean> {
    return this.write(() => this.sql.markUnknown.run({ entry_id: entryId, attempt, reason, now }).changes === 1);
  }

  release(entryId: string, attempt: string, now: number): Promise<boolean> {
    return this.write(() => this.releaseInTransaction(entryId, attempt, now));
  }

  resolve(sessionId: string, entryId: string, resolution: 'retry' | 'done', by: string, now: number): Promise<ResolveResult> {
    return this.guard(() => this.resolveTx.immediate(sessionId, entryId, resolution, by, now));
  }

  list(sessionId: string, now: number): Promise<LedgerEntry[]> {
    return this.guard(() => {
      const window = this.sql.window.get(sessionId) ?? 0;
      return this.sql.list.all({ session_id: sessionId, window, now }).map((row) => toLedgerEntry(row));
    });
  }

  summary(sessionId: string, recent: number): Promise<LedgerSummary> {
    return this.guard(() => {
      const window = this.sql.window.get(sessionId) ?? 0;
      const count = this.sql.countWindow.get(sessionId, window) ?? 0;
      const rows = this.sql.recentWindow.all(sessionId, window, recent).reverse();
      return { checkpointSeq: window, count, recent: rows.map((row) => toLedgerEntry(row)) };
    });
  }

  recoverInFlight(now: number): Promise<LedgerEntry[]> {
    return this.guard(() => {
      // Start-up is also when a gateway that had no traffic for a while catches up on retention.
      this.purge(now);
      return this.sql.recoverInFlight.all(now).map((row) => toLedgerEntry(row));
    });
  }

  /** The reservation proper; runs inside the batch's write-locked transaction (its own savepoint). */
  private reserveInTransaction(r: ReserveRequest, purge: boolean): ReserveResult {
    const sessionRow = this.sql.selectSession.get(r.sessionId);
    if (!sessionRow || sessionRow.state !== 'active' || sessionRow.epoch !== r.epoch) {
      return { kind: 'fenced', current: sessionRow === undefined ? null : toSession(sessionRow) };
    }
    if (purge) this.purge(r.now);
    if (r.idempotencyKey === null) return runOccurrenceSync(this.occurrences, r);
    return this.reserveKey(r, r.idempotencyKey);
  }

  /** Gives a never-forwarded reservation back; runs inside the batch's transaction like a reservation. */
  private releaseInTransaction(entryId: string, attempt: string, now: number): boolean {
    const sql = this.sql;
    const row = sql.selectHeld.get(entryId, attempt);
    if (!row) return false;
    if (row.kind === 'replay') sql.decrementCounter.run(row.session_id, row.checkpoint_seq, row.attempt_epoch, row.fingerprint);
    if (row.attempts > 1) sql.backToRetry.run(now, entryId);
    else {
      sql.deleteEntry.run(entryId);
      if (row.kind === 'replay') sql.shiftDown.run(row.session_id, row.checkpoint_seq, row.fingerprint, row.occurrence);
    }
    return true;
  }

  /** Expired key records and, past ledger_retention, closed entries: indexed deletes, folded into a reservation. */
  private purge(now: number): void {
    this.sql.purgeExpiredKeys.run(now);
    this.purgeBehind = this.sql.purgeClosed.run(now - this.retentionMs).changes === PURGE_BATCH;
  }

  /** The SQLite side of the shared occurrence rule: every read is one index seek. */
  private occurrenceTable(): OccurrenceTable<LedgerRow> {
    const sql = this.sql;
    return {
      window: (sessionId) => sql.window.get(sessionId) ?? 0,
      calls: (k) => sql.selectCounter.get(k.sessionId, k.window, k.epoch, k.fingerprint) ?? 0,
      setCalls: (k, calls) => sql.setCounter.run({ session_id: k.sessionId, window: k.window, epoch: k.epoch, fingerprint: k.fingerprint, calls }),
      at: (k, occurrence) => sql.atOccurrence.get(k.sessionId, k.window, k.fingerprint, occurrence),
      last: (k) => sql.lastOccurrence.get(k.sessionId, k.window, k.fingerprint) ?? 0,
      view: (row) => toLedgerEntry(row),
      replay: (row) => toLedgerEntry(row, true),
      take: (row, r) => this.take(row, r),
      insert: (r, window, occurrence) => this.insert(r, window, occurrence, null),
    };
  }

  private reserveKey(r: ReserveRequest, idempotencyKey: string): ReserveResult {
    let found = this.sql.selectKey.get(r.sessionId, r.tool, idempotencyKey);
    if (found && found.expires_at !== null && found.expires_at <= r.now) {
      this.sql.deleteEntry.run(found.entry_id);
      found = undefined;
    }
    if (!found) return { kind: 'forward', entry: this.insert(r, 0, 1, r.now + r.keyTtlMs), occurrence: 1 };
    if (found.fingerprint !== r.fingerprint) return { kind: 'key_reused', entry: toLedgerEntry(found) };
    const action = actionFor(found.state);
    if (action === 'in_progress' || action === 'unknown') return { kind: action, entry: toLedgerEntry(found) };
    if (action === 'replay') return { kind: 'replay', entry: toLedgerEntry(found, true), occurrence: 1 };
    return { kind: 'forward', entry: this.take(found, r), occurrence: 1 };
  }

  private insert(r: ReserveRequest, window: number, occurrence: number, expiresAt: number | null): LedgerEntry {
    const row = this.sql.insert.get({
      entry_id: r.newEntryId,
      session_id: r.sessionId,
      kind: r.idempotencyKey === null ? 'replay' : 'key',
      checkpoint_seq: window,
      tool: r.tool,
      idem_key: r.idempotencyKey,
      fingerprint: r.fingerprint,
      occurrence,
      epoch: r.epoch,
      attempt: r.attempt,
      replica_id: r.replicaId,
      method: r.method,
      path: r.path,
      mcp_tool: r.mcpTool,
      now: r.now,
      expires_at: expiresAt,
    });
    return toLedgerEntry(row!);
  }

  private take(row: LedgerRow, r: ReserveRequest): LedgerEntry {
    const taken = this.sql.take.get({ entry_id: row.entry_id, attempt: r.attempt, replica_id: r.replicaId, epoch: r.epoch, now: r.now });
    return toLedgerEntry(taken!);
  }
}
