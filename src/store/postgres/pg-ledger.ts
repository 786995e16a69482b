// The PostgreSQL LedgerStore (SPEC §10, §17). A reservation is ONE transaction that first locks the
// session row (SELECT … FOR NO KEY UPDATE) and checks that it is active at the caller's epoch; the shared
// occurrence rule (or the key-record path) then runs on that same connection. Everything that could
// change the answer (a resume, a checkpoint, a state change, another reservation or release of the same
// session, on any replica) needs that row lock too, so two replicas racing on one occurrence or one key
// serialise: one forwards, the other gets the in-progress or replay answer.
import { actionFor, canResolve, DEFAULT_LEDGER_RETENTION_MS, LEDGER_PURGE_INTERVAL_MS } from '../ledger-rules.js';
import { runOccurrenceAsync, type AsyncOccurrenceTable } from './pg-occurrence-tmp.js';
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
import type { OccurrenceKey } from '../ledger-occurrence.js';
import type { PgDb, PgQueryable } from './pg-db.js';
import { LQ, PURGE_BATCH, toLedgerEntry, type LedgerRow } from './pg-ledger-sql.js';

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
        const occurrences = this.occurrenceTable(tx, session.checkpoint_seq);
        const reserved = await runOccurrenceAsync(occurrences.table, r);
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

  /**
   * The PostgreSQL side of the shared occurrence rule, on the reservation's connection. To save round
   * trips the rule's reads (counter, entry at k, last occurrence) come from one probe statement, and the
   * counter it sets is written together with the entry it inserts (or by flush() before the commit).
   */
  private occurrenceTable(tx: PgQueryable, window: number): { table: AsyncOccurrenceTable<LedgerRow>; flush(): Promise<void> } {
    let probed: { id: string; calls: number; last: number; at: LedgerRow | undefined } | undefined;
    let pending: { key: OccurrenceKey; calls: number } | undefined;
    const probe = async (k: OccurrenceKey) => {
      const id = `${k.sessionId}\u0000${k.window}\u0000${k.epoch}\u0000${k.fingerprint}`;
      if (probed?.id !== id) {
        const row = (await tx.one<ProbeRow>(LQ.probe, [k.sessionId, k.window, k.epoch, k.fingerprint]))!;
        probed = { id, calls: row.calls, last: row.last, at: row.entry_id === null ? undefined : (row as LedgerRow) };
      }
      return probed;
    };
    const flush = async (): Promise<void> => {
      if (pending === undefined) return;
      const { key: k, calls } = pending;
      pending = undefined;
      await tx.run(LQ.setCounter, [k.sessionId, k.window, k.epoch, k.fingerprint, calls]);
    };
    const table: AsyncOccurrenceTable<LedgerRow> = {
      // The window is the locked session row's checkpoint seq: no query.
      window: async () => window,
      calls: async (k) => (await probe(k)).calls,
      setCalls: async (key, calls) => {
        pending = { key, calls };
      },
      at: async (k, occurrence) => {
        const p = await probe(k);
        return occurrence === p.calls + 1 ? p.at : tx.one<LedgerRow>(LQ.atOccurrence, [k.sessionId, k.window, k.fingerprint, occurrence]);
      },
      last: async (k) => (await probe(k)).last,
      view: async (row) => toLedgerEntry(row),
      replay: async (row) => toLedgerEntry(row, true),
      take: async (row, r) => {
        await flush();
        return this.take(tx, row, r);
      },
      insert: async (r, w, occurrence) => {
        const counted = pending !== undefined && pending.key.window === w && pending.key.fingerprint === r.fingerprint && pending.key.epoch === r.epoch;
        if (!counted) {
          await flush();
          return this.insert(tx, r, w, occurrence, null);
        }
        const calls = pending!.calls;
        pending = undefined;
        const row = await tx.one<LedgerRow>(LQ.insertCounted, [...insertValues(r, w, occurrence, null), calls]);
        return toLedgerEntry(row!);
      },
    };
    return { table, flush };
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
    const taken = await tx.one<LedgerRow>(LQ.take, [row.entry_id, r.attempt, r.epoch, (r as { replicaId?: string }).replicaId ?? '', r.now]);
    return toLedgerEntry(taken!);
  }
}

/** What the probe returns: the counter, the last occurrence, and the entry at k (all null when none). */
type ProbeRow = { calls: number; last: number } & { [K in keyof LedgerRow]: LedgerRow[K] | null };

/** $1 … $16 of the insert statements. */
function insertValues(r: ReserveRequest, window: number, occurrence: number, expiresAt: number | null): unknown[] {
  return [
    r.newEntryId, r.sessionId, r.idempotencyKey === null ? 'replay' : 'key', window, r.tool, r.idempotencyKey, r.fingerprint,
    occurrence, r.epoch, r.attempt, (r as { replicaId?: string }).replicaId ?? '', r.method, r.path, r.mcpTool, r.now, expiresAt,
  ];
}
