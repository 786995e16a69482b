// Audit anchors in SQLite (SPEC §13). Every anchor is kept (a few per minute at most); the newest per chain
// is one index seek on (chain_uid, sequence). Statements are prepared once, when the store opens
// (sqlite-prepare.ts). The newest-per-chain query is shared with the read-only reader that
// `audit verify --config` uses while a gateway runs.
import type Database from 'better-sqlite3';
import type { AnchorStore, StoredAnchor } from '../anchor-types.js';
import type { StoreGuard } from '../guard.js';
import { prepareStatements, sql, type Statements } from './sqlite-prepare.js';

const Q = {
  insert: sql<[StoredAnchor]>(
    `INSERT OR IGNORE INTO anchors (chain_uid, sequence, hash, jws, created_at)
     VALUES (@chainUid, @sequence, @hash, @jws, @createdAt)`,
  ),
  selectNewest: sql<[string], StoredAnchor>(
    `SELECT chain_uid AS chainUid, sequence, hash, jws, created_at AS createdAt
     FROM anchors WHERE chain_uid = ? ORDER BY sequence DESC LIMIT 1`,
  ),
  selectPerChain: sql<[number], StoredAnchor>(
    `SELECT a.chain_uid AS chainUid, a.sequence, a.hash, a.jws, a.created_at AS createdAt
     FROM anchors a
     WHERE a.sequence = (SELECT max(b.sequence) FROM anchors b WHERE b.chain_uid = a.chain_uid)
       AND a.created_at >= ?
     ORDER BY a.created_at, a.chain_uid`,
  ),
} as const;

/** The newest anchor of every chain: also read by the read-only reader of `audit verify --config`. */
export const NEWEST_PER_CHAIN_SQL = Q.selectPerChain;

export class SqliteAnchors implements AnchorStore {
  private readonly sql: Statements<typeof Q>;

  constructor(db: Database.Database, private readonly guard: StoreGuard) {
    this.sql = prepareStatements(db, Q);
  }

  put(anchor: StoredAnchor): Promise<void> {
    return this.guard(() => {
      this.sql.insert.run(anchor);
    });
  }

  newest(chainUid: string): Promise<StoredAnchor | null> {
    return this.guard(() => this.sql.selectNewest.get(chainUid) ?? null);
  }

  newestPerChain(createdAtOrAfter: number): Promise<StoredAnchor[]> {
    return this.guard(() => this.sql.selectPerChain.all(createdAtOrAfter));
  }
}
