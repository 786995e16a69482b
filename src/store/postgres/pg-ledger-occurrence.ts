// The PostgreSQL side of the shared occurrence rule (ledger-occurrence.ts), bound to one reservation's
// transaction (its session row already locked). To save round trips the rule's three reads (the counter,
// the entry at occurrence k, the last occurrence) come from one probe statement, and the counter the rule
// sets is written in the same statement as the entry it inserts, or by flush() before the commit.
import type { AsyncOccurrenceTable, OccurrenceKey } from '../ledger-occurrence.js';
import type { LedgerEntry, ReserveRequest } from '../ledger-types.js';
import type { PgQueryable } from './pg-db.js';
import { toLedgerEntry, type LedgerRow } from '../ledger-rows.js';
import { LQ } from './pg-ledger-sql.js';

/** What the probe returns: the counter, the last occurrence, and the entry at k (all null when none). */
type ProbeRow = { calls: number; last: number } & { [K in keyof LedgerRow]: LedgerRow[K] | null };

interface Probed {
  readonly id: string;
  readonly calls: number;
  readonly last: number;
  readonly at: LedgerRow | undefined;
}

export class PgOccurrenceTable implements AsyncOccurrenceTable<LedgerRow> {
  private probed: Probed | undefined;
  private pending: { readonly key: OccurrenceKey; readonly calls: number } | undefined;

  constructor(
    private readonly tx: PgQueryable,
    /** The locked session row's checkpoint seq. */
    private readonly currentWindow: number,
    private readonly insertValues: (r: ReserveRequest, window: number, occurrence: number, expiresAt: number | null) => unknown[],
  ) {}

  async window(): Promise<number> {
    return this.currentWindow;
  }

  async calls(k: OccurrenceKey): Promise<number> {
    return (await this.probe(k)).calls;
  }

  async setCalls(key: OccurrenceKey, calls: number): Promise<void> {
    this.pending = { key, calls };
  }

  async at(k: OccurrenceKey, occurrence: number): Promise<LedgerRow | undefined> {
    const p = await this.probe(k);
    if (occurrence === p.calls + 1) return p.at;
    return this.tx.one<LedgerRow>(LQ.atOccurrence, [k.sessionId, k.window, k.fingerprint, occurrence]);
  }

  async last(k: OccurrenceKey): Promise<number> {
    return (await this.probe(k)).last;
  }

  async view(row: LedgerRow): Promise<LedgerEntry> {
    return toLedgerEntry(row);
  }

  async replay(row: LedgerRow): Promise<LedgerEntry> {
    return toLedgerEntry(row, true);
  }

  async take(row: LedgerRow, r: ReserveRequest): Promise<LedgerEntry> {
    await this.flush();
    const taken = await this.tx.one<LedgerRow>(LQ.take, [row.entry_id, r.attempt, r.epoch, r.replicaId, r.now]);
    return toLedgerEntry(taken!);
  }

  async insert(r: ReserveRequest, window: number, occurrence: number): Promise<LedgerEntry> {
    const pending = this.pending;
    const values = this.insertValues(r, window, occurrence, null);
    const counted = pending !== undefined && pending.key.window === window && pending.key.epoch === r.epoch && pending.key.fingerprint === r.fingerprint;
    if (!counted) {
      await this.flush();
      return toLedgerEntry((await this.tx.one<LedgerRow>(LQ.insert, values))!);
    }
    this.pending = undefined;
    return toLedgerEntry((await this.tx.one<LedgerRow>(LQ.insertCounted, [...values, pending.calls]))!);
  }

  /** Writes a counter the rule set without inserting (a replay): before the transaction commits. */
  async flush(): Promise<void> {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    const k = pending.key;
    await this.tx.run(LQ.setCounter, [k.sessionId, k.window, k.epoch, k.fingerprint, pending.calls]);
  }

  private async probe(k: OccurrenceKey): Promise<Probed> {
    const id = `${k.sessionId}\u0000${k.window}\u0000${k.epoch}\u0000${k.fingerprint}`;
    if (this.probed?.id !== id) {
      const row = (await this.tx.one<ProbeRow>(LQ.probe, [k.sessionId, k.window, k.epoch, k.fingerprint]))!;
      this.probed = { id, calls: row.calls, last: row.last, at: row.entry_id === null ? undefined : (row as LedgerRow) };
    }
    return this.probed;
  }
}
