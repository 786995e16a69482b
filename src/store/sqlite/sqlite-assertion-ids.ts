// Used client-assertion ids in SQLite (SPEC §4): insert-if-absent, with the purge of expired ids folded
// into the same transaction at most every ASSERTION_PURGE_INTERVAL_MS.
import type { StoreGuard } from '../guard.js';
import { ASSERTION_PURGE_INTERVAL_MS } from '../purge.js';
import type { AssertionIdStore } from '../types.js';
import type { SqliteStatements } from './sqlite-statements.js';

export class SqliteAssertionIds implements AssertionIdStore {
  private nextPurge = 0;

  constructor(
    private readonly sql: SqliteStatements,
    private readonly guard: StoreGuard,
  ) {}

  use(key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.guard(() => {
      const purge = now >= this.nextPurge;
      const fresh = this.sql.useAssertionTx.immediate(key, expiresAt, now, purge);
      // Advanced only after the commit: a failed purge is retried on the next call.
      if (purge) this.nextPurge = now + ASSERTION_PURGE_INTERVAL_MS;
      return fresh;
    });
  }
}
