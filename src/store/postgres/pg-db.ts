// Query plumbing shared by the PostgreSQL sub-stores. Every statement is a named query declared once per
// file (DESIGN rule 3): node-postgres prepares it on each connection the first time and reuses it after,
// and a named query still costs one round trip. Every operation runs inside the store's guard, so any
// backend failure (lost connection, timeout, constraint error) reaches the caller as store_unavailable.
import type pg from 'pg';
import type { StoreGuard } from '../guard.js';

export interface NamedQuery {
  readonly name: string;
  readonly text: string;
}

/** Declares a named statement; names are prefixed so they cannot collide with anything else on a connection. */
export const sql = (name: string, text: string): NamedQuery => Object.freeze({ name: `eg_${name}`, text });

/** Runs statements on one connection: the pool (each call its own implicit transaction) or one transaction. */
export interface PgQueryable {
  rows<R>(query: NamedQuery, values: readonly unknown[]): Promise<R[]>;
  one<R>(query: NamedQuery, values: readonly unknown[]): Promise<R | undefined>;
  /** Rows affected. */
  run(query: NamedQuery, values: readonly unknown[]): Promise<number>;
}

function queryable(target: pg.Pool | pg.PoolClient): PgQueryable {
  const exec = <R>(query: NamedQuery, values: readonly unknown[]) =>
    target.query<R & pg.QueryResultRow>({ name: query.name, text: query.text, values: values as unknown[] });
  return {
    rows: async <R>(query: NamedQuery, values: readonly unknown[]) => (await exec<R>(query, values)).rows as R[],
    one: async <R>(query: NamedQuery, values: readonly unknown[]) => (await exec<R>(query, values)).rows[0] as R | undefined,
    run: async (query, values) => (await exec(query, values)).rowCount ?? 0,
  };
}

export class PgDb {
  private readonly direct: PgQueryable;

  constructor(
    private readonly pool: pg.Pool,
    /** The store's guard: failures become store_unavailable. */
    readonly guard: StoreGuard,
  ) {
    this.direct = queryable(pool);
  }

  /** One statement, guarded. */
  rows<R>(query: NamedQuery, values: readonly unknown[]): Promise<R[]> {
    return this.guard(() => this.direct.rows<R>(query, values));
  }

  one<R>(query: NamedQuery, values: readonly unknown[]): Promise<R | undefined> {
    return this.guard(() => this.direct.one<R>(query, values));
  }

  run(query: NamedQuery, values: readonly unknown[]): Promise<number> {
    return this.guard(() => this.direct.run(query, values));
  }

  /** Several statements with no transaction around them (each is atomic on its own), guarded as one. */
  many<T>(work: (db: PgQueryable) => Promise<T>): Promise<T> {
    return this.guard(() => work(this.direct));
  }

  /** One READ COMMITTED transaction on one connection, guarded. Rolled back on any failure; a connection
   *  whose state is unknown after a failure is destroyed rather than returned to the pool. */
  transaction<T>(work: (tx: PgQueryable) => Promise<T>): Promise<T> {
    return this.guard(async () => {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(queryable(client));
        await client.query('COMMIT');
        client.release();
        return result;
      } catch (err) {
        await client.query('ROLLBACK').then(
          () => client.release(),
          () => client.release(true),
        );
        throw err;
      }
    });
  }
}
