// Published signing keys on PostgreSQL (SPEC §17). Every write is one statement: publish inserts if the
// kid is absent and answers the stored row either way (a CTE, so the first publication wins across
// replicas and a retired key stays retired); retire is one conditional UPDATE that keeps the first time.
import { checkKeyToPublish, type KeyStore, type KeyToPublish, type PublicJwk, type PublishedKey } from '../key-types.js';
import { sql, type PgDb } from './pg-db.js';

interface KeyRow {
  readonly kid: string;
  readonly jwk: string;
  readonly publishedAt: number;
  readonly retiredAt: number | null;
}

const COLUMNS = 'kid, jwk, published_at AS "publishedAt", retired_at AS "retiredAt"';

const Q = {
  // The CTE's insert is invisible to the statement's own SELECT: answer the inserted row, else the old one.
  publish: sql(
    'key_publish',
    `WITH inserted AS (
       INSERT INTO signing_keys (kid, jwk, published_at) VALUES ($1, $2, $3)
       ON CONFLICT (kid) DO NOTHING RETURNING ${COLUMNS})
     SELECT * FROM inserted
     UNION ALL
     SELECT ${COLUMNS} FROM signing_keys WHERE kid = $1 AND NOT EXISTS (SELECT 1 FROM inserted)`,
  ),
  get: sql('key_get', `SELECT ${COLUMNS} FROM signing_keys WHERE kid = $1`),
  listAll: sql('key_list_all', `SELECT ${COLUMNS} FROM signing_keys ORDER BY published_at, kid`),
  listUnretired: sql('key_list_unretired', `SELECT ${COLUMNS} FROM signing_keys WHERE retired_at IS NULL ORDER BY published_at, kid`),
  retire: sql('key_retire', `UPDATE signing_keys SET retired_at = coalesce(retired_at, $2) WHERE kid = $1 RETURNING ${COLUMNS}`),
} as const;

export class PgKeys implements KeyStore {
  constructor(private readonly db: PgDb) {}

  async publish(key: KeyToPublish): Promise<PublishedKey> {
    // A caller bug (TypeError), refused before the database sees it and never a store failure.
    checkKeyToPublish(key);
    const row = await this.db.many(async (db) => {
      const stored = await db.one<KeyRow>(Q.publish, [key.kid, JSON.stringify(key.jwk), key.publishedAt]);
      // Empty only when a concurrent publication of the kid committed after this statement's snapshot:
      // a new statement sees it.
      return stored ?? (await db.one<KeyRow>(Q.get, [key.kid]));
    });
    if (row === undefined) throw new Error(`published key ${key.kid} is not readable back`);
    return toKey(row);
  }

  async get(kid: string): Promise<PublishedKey | null> {
    const row = await this.db.one<KeyRow>(Q.get, [kid]);
    return row === undefined ? null : toKey(row);
  }

  async list(options: { readonly includeRetired: boolean }): Promise<PublishedKey[]> {
    return (await this.db.rows<KeyRow>(options.includeRetired ? Q.listAll : Q.listUnretired, [])).map(toKey);
  }

  async retire(kid: string, now: number): Promise<PublishedKey | null> {
    const row = await this.db.one<KeyRow>(Q.retire, [kid, now]);
    return row === undefined ? null : toKey(row);
  }
}

function toKey(row: KeyRow): PublishedKey {
  return Object.freeze({ kid: row.kid, jwk: Object.freeze(JSON.parse(row.jwk) as PublicJwk), publishedAt: row.publishedAt, retiredAt: row.retiredAt });
}
