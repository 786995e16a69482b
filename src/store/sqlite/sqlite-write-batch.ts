// Group commit for the SQLite store's hot-path writes (SPEC §10, §14). At synchronous=FULL every commit
// is an fsync (1–2 ms on ordinary disks) and better-sqlite3 runs it on the event loop, so two commits per
// side-effecting call capped the gateway at a few hundred calls per second. Writes that arrive within one
// event-loop turn are gathered and run at setImmediate in ONE IMMEDIATE transaction: one fsync per batch.
//
// What each caller keeps:
// - atomicity: every operation runs inside the write-locked transaction, so its reads (the epoch check) and
//   its writes are one step for every other connection and process (DESIGN rule 10: the backend gives the
//   atomicity, not the absence of an await);
// - isolation from its neighbours: each operation runs in its own SAVEPOINT; one that throws is rolled back
//   alone and only its caller's promise rejects;
// - durability: a promise settles only after the COMMIT returned, so nothing is forwarded before its
//   reservation is on disk and nothing is replayed before it is committed. A failed COMMIT rejects everyone
//   in the batch (nothing of it is on disk).
import type Database from 'better-sqlite3';
import { prepareStatements, sql, type Statements } from './sqlite-prepare.js';

// IMMEDIATE: the write lock is taken at BEGIN, so every operation's reads already run under it.
const Q = {
  begin: sql('BEGIN IMMEDIATE'),
  commit: sql('COMMIT'),
  rollback: sql('ROLLBACK'),
  savepoint: sql('SAVEPOINT batch_op'),
  release: sql('RELEASE batch_op'),
  rollbackTo: sql('ROLLBACK TO batch_op'),
} as const;

interface Pending {
  readonly operation: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly err: unknown };

/** Runs one synchronous write in the next group commit; settles after its COMMIT. */
export type BatchedWrite = <T>(operation: () => T) => Promise<T>;

export class SqliteWriteBatch {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly sql: Statements<typeof Q>;

  constructor(private readonly db: Database.Database) {
    this.sql = prepareStatements(db, Q);
  }

  /** Queues `operation` (synchronous, no await inside) for the next batch; settles after its commit. */
  run<T>(operation: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ operation, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs and commits whatever is queued now (also called before the store closes). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    let outcomes: Outcome[];
    try {
      outcomes = this.runBatch(batch);
    } catch (err) {
      // BEGIN or COMMIT failed (busy past the timeout, disk error): nothing of this batch is on disk.
      this.abandon();
      for (const pending of batch) pending.reject(err);
      return;
    }
    batch.forEach((pending, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.err);
    });
  }

  private runBatch(batch: readonly Pending[]): Outcome[] {
    this.sql.begin.run();
    const outcomes = batch.map((pending) => this.runOne(pending.operation));
    this.sql.commit.run();
    return outcomes;
  }

  /** One operation in its own savepoint: a failure undoes only its writes. */
  private runOne(operation: () => unknown): Outcome {
    this.sql.savepoint.run();
    try {
      const value = operation();
      this.sql.release.run();
      return { ok: true, value };
    } catch (err) {
      // SQLite may have rolled the whole transaction back itself (SQLITE_FULL, IOERR): then the batch is
      // lost and COMMIT must not run in autocommit mode as if it had succeeded.
      if (!this.db.inTransaction) throw err;
      this.sql.rollbackTo.run();
      this.sql.release.run();
      return { ok: false, err };
    }
  }

  private abandon(): void {
    try {
      if (this.db.inTransaction) this.sql.rollback.run();
    } catch {
      // The connection is unusable; the next batch's BEGIN reports that to its callers.
    }
  }
}
