// Audit anchors in SQLite (SPEC §13). Every anchor is kept (a few per minute at most); the newest per chain
// is one index seek on (chain_uid, sequence). Statements are prepared once (DESIGN rule 3). The queries
// are shared with the read-only reader that `audit verify --config` uses while a gateway runs.
import type Database from 'better-sqlite3';
import type { AnchorStore, StoredAnchor } from '../anchor-types.js';
import type { StoreGuard } from '../guard.js';

export const NEWEST_ANCHOR_SQL = `SELECT chain_uid AS chainUid, sequence, hash, jws, created_at AS createdAt
  FROM anchors WHERE chain_uid = ? ORDER BY sequence DESC LIMIT 1`;
export const NEWEST_PER_CHAIN_SQL = `SELECT a.chain_uid AS chainUid, a.sequence, a.hash, a.jws, a.created_at AS createdAt
  FROM anchors a
  WHERE a.sequence = (SELECT max(b.sequence) FROM anchors b WHERE b.chain_uid = a.chain_uid)
    AND a.created_at >= ?
  ORDER BY a.created_at, a.chain_uid`;

export class SqliteAnchors implements AnchorStore {
  private readonly insert: Database.Statement<[StoredAnchor]>;
  private readonly selectNewest: Database.Statement<[string], StoredAnchor>;
  private readonly selectPerChain: Database.Statement<[number], StoredAnchor>;

  constructor(db: Database.Database, private readonly guard: StoreGuard) {
    this.insert = db.prepare<[StoredAnchor]>(
      `INSERT OR IGNORE INTO anchors (chain_uid, sequence, hash, jws, created_at)
       VALUES (@chainUid, @sequence, @hash, @jws, @createdAt)`,
    );
    this.selectNewest = db.prepare<[string], StoredAnchor>(NEWEST_ANCHOR_SQL);
    this.selectPerChain = db.prepare<[number], StoredAnchor>(NEWEST_PER_CHAIN_SQL);
  }

  put(anchor: StoredAnchor): Promise<void> {
    return this.guard(() => {
      this.insert.run(anchor);
    });
  }

  newest(chainUid: string): Promise<StoredAnchor | null> {
    return this.guard(() => this.selectNewest.get(chainUid) ?? null);
  }

  newestPerChain(createdAtOrAfter: number): Promise<StoredAnchor[]> {
    return this.guard(() => this.selectPerChain.all(createdAtOrAfter));
  }
}
