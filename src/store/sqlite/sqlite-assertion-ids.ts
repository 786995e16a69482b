// Used client-assertion ids in SQLite (SPEC §4): insert-if-absent, with the purge of expired ids folded
// into the same transaction at most every ASSERTION_PURGE_INTERVAL_MS. Statements are prepared once, when
// the store opens (sqlite-prepare.ts).
import type Database from 'better-sqlite3';
import type { StoreGuard } from '../guard.js';
import { ASSERTION_PURGE_INTERVAL_MS } from '../purge.js';
import type { AssertionIdStore } from '../types.js';
import { prepareStatements, sql } from './sqlite-prepare.js';

const Q = {
  // An entry past its expiry counts as forgotten (types.ts allows it), whether or not the purge ran yet:
  // that keeps the answer independent of purge timing.
  insertAssertion: sql(
    `INSERT INTO used_assertions (key, expires_at) VALUES (?, ?)
     ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE used_assertions.expires_at < ?`,
  ),
  purgeAssertions: sql('DELETE FROM used_assertions WHERE expires_at < ?'),
} as const;

export class SqliteAssertionIds implements AssertionIdStore {
  private nextPurge = 0;
  private readonly useTx: Database.Transaction<(key: string, expiresAt: number, now: number, purge: boolean) => boolean>;

  constructor(
    db: Database.Database,
    private readonly guard: StoreGuard,
  ) {
    const q = prepareStatements(db, Q);
    this.useTx = db.transaction((key: string, expiresAt: number, now: number, purge: boolean): boolean => {
      if (purge) q.purgeAssertions.run(now);
      return q.insertAssertion.run(key, expiresAt, now).changes === 1;
    });
  }

  use(key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.guard(() => {
      const purge = now >= this.nextPurge;
      const fresh = this.useTx.immediate(key, expiresAt, now, purge);
      // Advanced only after the commit: a failed purge is retried on the next call.
      if (purge) this.nextPurge = now + ASSERTION_PURGE_INTERVAL_MS;
      return fresh;
    });
  }
}
