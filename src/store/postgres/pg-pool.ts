// The PostgreSQL connection pool (SPEC §17). One pg.Pool per Store, sized by store.pool_size. What matters
// here is failing closed without ever crashing: an idle client whose connection dies (server restart,
// pg_terminate_backend, network cut) makes the pool emit 'error', which would be an uncaught exception
// without a listener; a query on a dead connection rejects and the store's guard turns that into
// store_unavailable; the pool then opens fresh connections by itself when the server is back.
import pg from 'pg';

export interface PgPoolOptions {
  readonly url: string;
  readonly poolSize: number;
  /** Sees every connection-level error of an idle client (metrics, logs); never throws into the pool. */
  readonly onIdleError?: (err: unknown) => void;
  /** Application name shown in pg_stat_activity (the replica id, when known). */
  readonly applicationName?: string;
}

export const DEFAULT_POOL_SIZE = 10;
/** A statement that runs longer than this is cancelled by the server (a stuck lock must not hold a call). */
export const STATEMENT_TIMEOUT_MS = 10_000;
/** Client-side bound on one query, for a server that stopped answering without closing the socket. */
const QUERY_TIMEOUT_MS = 15_000;
/** How long a caller waits for a connection (pool full, or the server unreachable) before failing closed. */
const CONNECT_TIMEOUT_MS = 5_000;
/** A replica that dies inside a transaction must not keep its row locks (e.g. a session row) for long. */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000;

/** int8 (bigint): timestamps in ms and counts. Exact as a JS number up to 2^53; beyond that it is refused
 *  rather than silently rounded (a rounded epoch or time would be wrong state). */
const INT8_OID = 20;

function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error('int8 value outside the safe integer range');
  return value;
}

const typeParsers = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

export function createPgPool(options: PgPoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    types: typeParsers,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    application_name: options.applicationName ?? 'epochgate',
  });
  // An idle client's connection died: pg removes it from the pool; the next query opens a new one.
  pool.on('error', (err) => {
    try {
      options.onIdleError?.(err);
    } catch {
      // An observer's failure must not become an uncaught exception either.
    }
  });
  return pool;
}

/** The URL with any password replaced, for messages and logs (the URL itself is a secret-bearing value). */
export function redactPgUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    // Query parameters may carry a password too (e.g. ?password=…).
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass|secret|key/i.test(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

/** Removes every occurrence of the URL's password from a message (driver errors may echo parts of it). */
export function scrubPassword(message: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return message;
  }
  return password === '' ? message : message.split(password).join('***');
}
