// Audit anchors on PostgreSQL (SPEC §13). Every anchor is kept; the newest per chain is one index seek on
// the primary key (chain_uid, sequence). The same (chain, sequence) twice keeps the first.
import type { AnchorStore, StoredAnchor } from '../anchor-types.js';
import { sql, type PgDb } from './pg-db.js';

const COLUMNS = 'chain_uid AS "chainUid", sequence, hash, jws, created_at AS "createdAt"';

const Q = {
  put: sql(
    'anchor_put',
    `INSERT INTO anchors (chain_uid, sequence, hash, jws, created_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (chain_uid, sequence) DO NOTHING`,
  ),
  newest: sql('anchor_newest', `SELECT ${COLUMNS} FROM anchors WHERE chain_uid = $1 ORDER BY sequence DESC LIMIT 1`),
  newestPerChain: sql(
    'anchor_newest_per_chain',
    `SELECT ${COLUMNS} FROM (
       SELECT DISTINCT ON (chain_uid) * FROM anchors ORDER BY chain_uid, sequence DESC) newest
     WHERE created_at >= $1
     ORDER BY created_at, chain_uid`,
  ),
} as const;

export class PgAnchors implements AnchorStore {
  constructor(private readonly db: PgDb) {}

  async put(anchor: StoredAnchor): Promise<void> {
    await this.db.run(Q.put, [anchor.chainUid, anchor.sequence, anchor.hash, anchor.jws, anchor.createdAt]);
  }

  async newest(chainUid: string): Promise<StoredAnchor | null> {
    return (await this.db.one<StoredAnchor>(Q.newest, [chainUid])) ?? null;
  }

  newestPerChain(createdAtOrAfter: number): Promise<StoredAnchor[]> {
    return this.db.rows<StoredAnchor>(Q.newestPerChain, [createdAtOrAfter]);
  }
}
