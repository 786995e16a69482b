// The PostgreSQL LedgerStore (SPEC §10, §17). A reservation is ONE transaction that first locks the
// session row (SELECT … FOR NO KEY UPDATE) and checks that it is active at the caller's epoch; the shared
// occurrence rule (or the key-record path) then runs on that same connection. Everything that could
// change the answer (a resume, a checkpoint, a state change, another reservation or release of the same
// session, on any replica) needs that row lock too, so two replicas racing on one occurrence or one key
// serialise: one forwards, the other gets the in-progress or replay answer.
import { actionFor, canResolve, DEFAULT_LEDGER_RETENTION_MS, LEDGER_PURGE_INTERVAL_MS } from '../ledger-rules.js';
import { runOccurrenceAsync } from '../ledger-occurrence.js';
import { PgOccurrenceTable } from './pg-ledger-occurrence.js';
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
import { toSession, type SessionRow } from '../sqlite/sqlite-rows.js';
import type { PgDb, PgQueryable } from './pg-db.js';
import { toLedgerEntry, type LedgerRow } from '../ledger-rows.js';
import { LQ, PURGE_BATCH } from './pg-ledger-sql.js';

export class PgLedger implements LedgerStore {
  private nextPurge = 0;

  constructor(
    private readonly db: PgDb,
    private readonly retentionMs = DEFAULT_LEDGER_RETENTION_MS,
  ) {}

  async reserve(r: ReserveRequest): Promise<ReserveResult> {
    const purge = r.now >= this.nextPurge;
    let behind = false;
    const result = await this.db.transaction(async (tx): Promise<ReserveResult> => {
      const session = await tx.one<SessionRow & { checkpoint_seq: number }>(LQ.lockSession, [r.sessionId]);
      if (session === undefined || session.state !== 'active' || session.epoch !== r.epoch) {
        return { kind: 'fenced', current: session === undefined ? null : toSession(session) };
      }
      if (purge) behind = await this.purge(tx, r.now);
      if (r.idempotencyKey === null) {
        const occurrences = new PgOccurrenceTable(tx, session.checkpoint_seq, insertValues);
        const reserved = await runOccurrenceAsync(occurrences, r);
        await occurrences.flush();
        return reserved;
      }
      return this.reserveKey(tx, r, r.idempotencyKey);
    });
    // Advanced only after the commit: a purge rolled back with its transaction is retried next time.
    if (purge) this.nextPurge = behind ? r.now : r.now + LEDGER_PURGE_INTERVAL_MS;
    return result;
  }

  async complete(entryId: string, attempt: string, o: CompletedOutcome): Promise<boolean> {
    const recorded = o.body !== null;
    const values = [entryId, attempt, recorded ? 'completed' : 'unknown', recorded ? null : 'body_too_large', o.status,
      JSON.stringify(o.headers), o.body, o.bodySha256, o.bodyBytes, o.now];
    return (await this.db.run(LQ.complete, values)) === 1;
  }

  async markUnknown(entryId: string, attempt: string, reason: UnknownReason, now: number): Promise<boolean> {
    return (await this.db.run(LQ.markUnknown, [entryId, attempt, reason, now])) === 1;
  }

  /** Under the session row lock too: renumbering occurrences must not interleave with a reservation. */
  release(entryId: string, attempt: string, now: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const seen = await tx.one<{ session_id: string }>(LQ.sessionOfEntry, [entryId]);
      if (seen === undefined) return false;
      // Lock order session → entry, as a reservation takes them; the entry is read (and locked) after.
      await tx.one(LQ.lockSession, [seen.session_id]);
      const row = await tx.one<LedgerRow>(LQ.selectHeld, [entryId, attempt]);
      if (row === undefined) return false;
      if (row.kind === 'replay') await tx.run(LQ.decrementCounter, [row.session_id, row.checkpoint_seq, row.attempt_epoch, row.fingerprint]);
      if (row.attempts > 1) await tx.run(LQ.backToRetry, [entryId, now]);
      else {
        await tx.run(LQ.deleteEntry, [entryId]);
        if (row.kind === 'replay') await tx.run(LQ.shiftDown, [row.session_id, row.checkpoint_seq, row.fingerprint, row.occurrence]);
      }
      return true;
    });
  }

  resolve(sessionId: string, entryId: string, resolution: 'retry' | 'done', by: string, now: number): Promise<ResolveResult> {
    return this.db.transaction(async (tx): Promise<ResolveResult> => {
      const row = await tx.one<LedgerRow>(LQ.selectEntryForUpdate, [entryId, sessionId]);
      if (row === undefined) return { ok: false, current: null };
      const current = toLedgerEntry(row);
      if (!canResolve(current, resolution)) return { ok: false, current };
      const updated = await tx.one<LedgerRow>(LQ.resolve, [entryId, resolution, by, now]);
      return { ok: true, entry: toLedgerEntry(updated!), previous: current.state };
    });
  }

  async list(sessionId: string, now: number): Promise<LedgerEntry[]> {
    return (await this.db.rows<LedgerRow>(LQ.list, [sessionId, now])).map((row) => toLedgerEntry(row));
  }

  summary(sessionId: string, recent: number): Promise<LedgerSummary> {
    return this.db.many(async (db) => {
      const window = (await db.one<{ checkpoint_seq: number }>(LQ.window, [sessionId]))?.checkpoint_seq ?? 0;
      const count = (await db.one<{ n: number }>(LQ.countWindow, [sessionId, window]))?.n ?? 0;
      const rows = (await db.rows<LedgerRow>(LQ.recentWindow, [sessionId, window, recent])).reverse();
      return { checkpointSeq: window, count, recent: rows.map((row) => toLedgerEntry(row)) };
    });
  }

  recoverInFlight(now: number): Promise<LedgerEntry[]> {
    return this.db.many(async (db) => {
      // Start-up is also when a gateway that had no traffic for a while catches up on retention.
      await this.purge(db, now);
      return (await db.rows<LedgerRow>(LQ.recoverInFlight, [now])).map((row) => toLedgerEntry(row));
    });
  }

  /** Expired key records and, past ledger_retention, closed entries; true when the batch was full. */
  private async purge(db: PgQueryable, now: number): Promise<boolean> {
    await db.run(LQ.purgeExpiredKeys, [now]);
    return (await db.run(LQ.purgeClosed, [now - this.retentionMs])) === PURGE_BATCH;
  }

  private async reserveKey(tx: PgQueryable, r: ReserveRequest, idempotencyKey: string): Promise<ReserveResult> {
    let found = await tx.one<LedgerRow>(LQ.selectKey, [r.sessionId, r.tool, idempotencyKey]);
    if (found && found.expires_at !== null && found.expires_at <= r.now) {
      await tx.run(LQ.deleteEntry, [found.entry_id]);
      found = undefined;
    }
    if (!found) return { kind: 'forward', entry: await this.insert(tx, r, 0, 1, r.now + r.keyTtlMs), occurrence: 1 };
    if (found.fingerprint !== r.fingerprint) return { kind: 'key_reused', entry: toLedgerEntry(found) };
    const action = actionFor(found.state);
    if (action === 'in_progress' || action === 'unknown') return { kind: action, entry: toLedgerEntry(found) };
    if (action === 'replay') return { kind: 'replay', entry: toLedgerEntry(found, true), occurrence: 1 };
    return { kind: 'forward', entry: await this.take(tx, found, r), occurrence: 1 };
  }

  private async insert(tx: PgQueryable, r: ReserveRequest, window: number, occurrence: number, expiresAt: number | null): Promise<LedgerEntry> {
    const row = await tx.one<LedgerRow>(LQ.insert, insertValues(r, window, occurrence, expiresAt));
    return toLedgerEntry(row!);
  }

  private async take(tx: PgQueryable, row: LedgerRow, r: ReserveRequest): Promise<LedgerEntry> {
    const taken = await tx.one<LedgerRow>(LQ.take, [row.entry_id, r.attempt, r.epoch, r.replicaId, r.now]);
    return toLedgerEntry(taken!);
  }
}

/** $1 … $16 of the insert statements. */
export function insertValues(r: ReserveRequest, window: number, occurrence: number, expiresAt: number | null): unknown[] {
  return [
    r.newEntryId, r.sessionId, r.idempotencyKey === null ? 'replay' : 'key', window, r.tool, r.idempotencyKey, r.fingerprint,
    occurrence, r.epoch, r.attempt, r.replicaId, r.method, r.path, r.mcpTool, r.now, expiresAt,
  ];
}
