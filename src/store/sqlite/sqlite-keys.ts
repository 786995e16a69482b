// Published signing keys in SQLite (SPEC §17). One statement per operation: publish is INSERT OR IGNORE on
// the kid, retire one conditional UPDATE … RETURNING that keeps the first retired_at. The same statements
// translate directly to PostgreSQL. Statements are prepared once (DESIGN rule 3).
import type Database from 'better-sqlite3';
import { checkKeyToPublish, type KeyStore, type KeyToPublish, type PublicJwk, type PublishedKey } from '../key-types.js';
import type { StoreGuard } from '../guard.js';

interface KeyRow {
  readonly kid: string;
  readonly jwk: string;
  readonly publishedAt: number;
  readonly retiredAt: number | null;
}

const COLUMNS = 'kid, jwk, published_at AS publishedAt, retired_at AS retiredAt';

export class SqliteKeys implements KeyStore {
  private readonly insert: Database.Statement<[{ kid: string; jwk: string; publishedAt: number }]>;
  private readonly selectOne: Database.Statement<[string], KeyRow>;
  private readonly selectAll: Database.Statement<[], KeyRow>;
  private readonly selectUnretired: Database.Statement<[], KeyRow>;
  private readonly retireOne: Database.Statement<[number, string], KeyRow>;

  constructor(db: Database.Database, private readonly guard: StoreGuard) {
    this.insert = db.prepare(`INSERT INTO signing_keys (kid, jwk, published_at) VALUES (@kid, @jwk, @publishedAt) ON CONFLICT (kid) DO NOTHING`);
    this.selectOne = db.prepare<[string], KeyRow>(`SELECT ${COLUMNS} FROM signing_keys WHERE kid = ?`);
    this.selectAll = db.prepare<[], KeyRow>(`SELECT ${COLUMNS} FROM signing_keys ORDER BY published_at, kid`);
    this.selectUnretired = db.prepare<[], KeyRow>(`SELECT ${COLUMNS} FROM signing_keys WHERE retired_at IS NULL ORDER BY published_at, kid`);
    this.retireOne = db.prepare<[number, string], KeyRow>(
      `UPDATE signing_keys SET retired_at = coalesce(retired_at, ?) WHERE kid = ? RETURNING ${COLUMNS}`,
    );
  }

  publish(key: KeyToPublish): Promise<PublishedKey> {
    try {
      checkKeyToPublish(key);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.guard(() => {
      this.insert.run({ kid: key.kid, jwk: JSON.stringify(key.jwk), publishedAt: key.publishedAt });
      const row = this.selectOne.get(key.kid);
      if (!row) throw new Error(`published key ${key.kid} is not readable back`);
      return toKey(row);
    });
  }

  get(kid: string): Promise<PublishedKey | null> {
    return this.guard(() => {
      const row = this.selectOne.get(kid);
      return row ? toKey(row) : null;
    });
  }

  list(options: { readonly includeRetired: boolean }): Promise<PublishedKey[]> {
    return this.guard(() => (options.includeRetired ? this.selectAll : this.selectUnretired).all().map(toKey));
  }

  retire(kid: string, now: number): Promise<PublishedKey | null> {
    return this.guard(() => {
      const row = this.retireOne.get(now, kid);
      return row ? toKey(row) : null;
    });
  }
}

/** Exported for the read-only reader of `audit verify --config`. */
export function toKey(row: KeyRow): PublishedKey {
  return Object.freeze({ kid: row.kid, jwk: Object.freeze(JSON.parse(row.jwk) as PublicJwk), publishedAt: row.publishedAt, retiredAt: row.retiredAt });
}

export const ALL_KEYS_SQL = `SELECT ${COLUMNS} FROM signing_keys ORDER BY published_at, kid`;
export type { KeyRow };
