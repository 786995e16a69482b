// Used client-assertion ids on PostgreSQL (SPEC §4, §17: a `jti` is single use across replicas). One
// insert-if-absent statement: of any number of replicas presenting the same id at once, exactly one
// inserts (or revives an entry already past its expiry); the others see a conflict and change nothing.
import type { AssertionIdStore } from '../types.js';
import { sql, type PgDb } from './pg-db.js';

const Q = {
  // An entry past its expiry counts as forgotten whether or not the purge ran (as in the other backends).
  use: sql(
    'assertion_use',
    `INSERT INTO used_assertions (key, expires_at) VALUES ($1, $2)
     ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE used_assertions.expires_at < $3`,
  ),
  purge: sql('assertion_purge', 'DELETE FROM used_assertions WHERE expires_at < $1'),
} as const;

/** Expired ids are purged at most this often (a cheap indexed delete folded into a use). */
const PURGE_INTERVAL_MS = 60_000;

export class PgAssertionIds implements AssertionIdStore {
  private nextPurge = 0;

  constructor(private readonly db: PgDb) {}

  use(key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.db.many(async (db) => {
      if (now >= this.nextPurge) {
        await db.run(Q.purge, [now]);
        // Advanced only after the purge succeeded: a failed one is retried by the next use.
        this.nextPurge = now + PURGE_INTERVAL_MS;
      }
      return (await db.run(Q.use, [key, expiresAt, now])) === 1;
    });
  }
}
