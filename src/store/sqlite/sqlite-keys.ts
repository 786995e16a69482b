// Published signing keys in SQLite (SPEC §17). One statement per operation: publish is INSERT OR IGNORE on
// the kid, retire one conditional UPDATE … RETURNING that keeps the first retired_at. The same statements
// translate directly to PostgreSQL. Statements are prepared once, when the store opens (sqlite-prepare.ts).
import type Database from 'better-sqlite3';
import { checkKeyToPublish, type KeyStore, type KeyToPublish, type PublicJwk, type PublishedKey } from '../key-types.js';
import type { StoreGuard } from '../guard.js';
import { prepareStatements, sql, type Statements } from './sqlite-prepare.js';

interface KeyRow {
  readonly kid: string;
  readonly jwk: string;
  readonly publishedAt: number;
  readonly retiredAt: number | null;
}

const COLUMNS = 'kid, jwk, published_at AS publishedAt, retired_at AS retiredAt';

const Q = {
  insert: sql<[{ kid: string; jwk: string; publishedAt: number }]>(
    `INSERT INTO signing_keys (kid, jwk, published_at) VALUES (@kid, @jwk, @publishedAt) ON CONFLICT (kid) DO NOTHING`,
  ),
  selectOne: sql<[string], KeyRow>(`SELECT ${COLUMNS} FROM signing_keys WHERE kid = ?`),
  selectAll: sql<[], KeyRow>(`SELECT ${COLUMNS} FROM signing_keys ORDER BY published_at, kid`),
  selectUnretired: sql<[], KeyRow>(`SELECT ${COLUMNS} FROM signing_keys WHERE retired_at IS NULL ORDER BY published_at, kid`),
  retireOne: sql<[number, string], KeyRow>(`UPDATE signing_keys SET retired_at = coalesce(retired_at, ?) WHERE kid = ? RETURNING ${COLUMNS}`),
} as const;

export class SqliteKeys implements KeyStore {
  private readonly sql: Statements<typeof Q>;

  constructor(db: Database.Database, private readonly guard: StoreGuard) {
    this.sql = prepareStatements(db, Q);
  }

  publish(key: KeyToPublish): Promise<PublishedKey> {
    try {
      checkKeyToPublish(key);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.guard(() => {
      this.sql.insert.run({ kid: key.kid, jwk: JSON.stringify(key.jwk), publishedAt: key.publishedAt });
      const row = this.sql.selectOne.get(key.kid);
      if (!row) throw new Error(`published key ${key.kid} is not readable back`);
      return toKey(row);
    });
  }

  get(kid: string): Promise<PublishedKey | null> {
    return this.guard(() => {
      const row = this.sql.selectOne.get(kid);
      return row ? toKey(row) : null;
    });
  }

  list(options: { readonly includeRetired: boolean }): Promise<PublishedKey[]> {
    return this.guard(() => (options.includeRetired ? this.sql.selectAll : this.sql.selectUnretired).all().map(toKey));
  }

  retire(kid: string, now: number): Promise<PublishedKey | null> {
    return this.guard(() => {
      const row = this.sql.retireOne.get(now, kid);
      return row ? toKey(row) : null;
    });
  }
}

/** Exported for the read-only reader of `audit verify --config`. */
export function toKey(row: KeyRow): PublishedKey {
  return Object.freeze({ kid: row.kid, jwk: Object.freeze(JSON.parse(row.jwk) as PublicJwk), publishedAt: row.publishedAt, retiredAt: row.retiredAt });
}

/** Every key, retired ones included: also read by the read-only reader of `audit verify --config`. */
export const ALL_KEYS_SQL = Q.selectAll;
export type { KeyRow };
