// The one layout of the SQLite store's SQL. Each sub-store file (`sqlite-<name>.ts`) declares its
// statements once, at module level, as `const Q = { name: sql<Params, Row>(`…`), … } as const` (`pluck`
// for a statement answering one value), with a comment on each statement whose shape needs a reason — the
// same shape as the PostgreSQL store's `Q` objects. Its constructor prepares the whole object into
// `this.sql` with `prepareStatements(db, Q)` and builds its transactions from those statements; methods
// call `this.sql.<name>`. So every statement is prepared once, when the store opens (a statement the
// schema rejects stops start-up, not a request), never per call (DESIGN rule 3). A sub-store whose file
// would pass 300 lines keeps its object in `sqlite-<name>-sql.ts` (the ledger's `LQ`); a generated family
// of statements is an array of specs, each prepared at open with `prepareOne` (the sessions' list filters).
// Only the migrations and the read-only audit reader prepare one-off statements of their own.
import type Database from 'better-sqlite3';

type Params = unknown[] | {};

/** One statement's SQL text and the parameter and result types its callers use (nothing is prepared yet). */
export interface SqlSpec<P extends Params, R> {
  readonly text: string;
  /** The statement answers its first column's value instead of a row object (better-sqlite3's pluck). */
  readonly pluck: boolean;
  /** Never set: carries P and R from the declaration to the prepared statement. */
  readonly types?: (params: P) => R;
}

/** A statement answering rows of type R (or none, for a write). */
export function sql<P extends Params = unknown[], R = unknown>(text: string): SqlSpec<P, R> {
  return Object.freeze({ text, pluck: false });
}

/** A statement answering the value V of its first column. */
export function pluck<P extends Params = unknown[], V = unknown>(text: string): SqlSpec<P, V> {
  return Object.freeze({ text, pluck: true });
}

/** The prepared form of a statement object: same keys, each a typed better-sqlite3 statement. */
export type Statements<T> = {
  readonly [K in keyof T]: T[K] extends SqlSpec<infer P, infer R> ? Database.Statement<P, R> : never;
};

export function prepareOne<P extends Params, R>(db: Database.Database, spec: SqlSpec<P, R>): Database.Statement<P, R> {
  const statement = db.prepare<P, R>(spec.text);
  // pluck() switches the statement itself (it returns `this`).
  if (spec.pluck) statement.pluck();
  return statement;
}

/** Prepares every statement of `specs` now, so a statement the schema rejects fails the store's open. */
export function prepareStatements<T extends Readonly<Record<string, SqlSpec<never, unknown>>>>(
  db: Database.Database,
  specs: T,
): Statements<T> {
  const prepared = Object.entries(specs).map(([name, spec]) => [name, prepareOne(db, spec)] as const);
  return Object.freeze(Object.fromEntries(prepared)) as Statements<T>;
}
