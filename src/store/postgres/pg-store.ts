// The PostgreSQL Store (SPEC §17): several gateway replicas share one database. Opening it creates the
// pool and migrates the schema under an advisory lock; a failure to do so is a start-up error (a plain
// Error whose message never holds the URL's password). While running, every backend failure — a lost
// connection included — reaches the caller as store_unavailable, and the pool reconnects by itself once
// the server is back, so the gateway recovers without a restart (SPEC §14).
import type pg from 'pg';
import { createStoreGuard, type StoreGuard } from '../guard.js';
import { DEFAULT_LEDGER_RETENTION_MS } from '../ledger-rules.js';
import { PgAnchors } from './pg-anchors.js';
import { PgApprovals } from './pg-approvals.js';
import { PgAssertionIds } from './pg-assertion-ids.js';
import { PgConsoleSessions } from './pg-console-sessions.js';
import { PgDb, sql } from './pg-db.js';
import { PgLedger } from './pg-ledger.js';
import { PgKeys } from './pg-keys.js';
import { PgMcpSessions } from './pg-mcp-sessions.js';
import { PgNotifications } from './pg-notifications.js';
import { migratePg } from './pg-migrate.js';
import { createPgPool, DEFAULT_POOL_SIZE, redactPgUrl, scrubPassword } from './pg-pool.js';
import { PgReplicas } from './pg-replicas.js';
import { PgSessions } from './pg-sessions.js';
import type { Store } from '../types.js';

export interface PostgresStoreOptions {
  /** postgres:// or postgresql:// URL (it may carry a password: never logged). */
  readonly url: string;
  /** Connections in the pool (store.pool_size). */
  readonly poolSize?: number;
  /** Sees every backend failure before it is thrown as store_unavailable (metrics, logs). */
  readonly onError?: (err: unknown) => void;
  /** SPEC §10: how long closed ledger entries keep their metadata (default 7 days). */
  readonly ledgerRetentionMs?: number;
  /** Shown in pg_stat_activity. */
  readonly applicationName?: string;
}

const PING = sql('ping', 'SELECT 1');

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly sessions: PgSessions;
  readonly assertionIds: PgAssertionIds;
  readonly replicas: PgReplicas;
  readonly approvals: PgApprovals;
  readonly ledger: PgLedger;
  readonly mcpSessions: PgMcpSessions;
  readonly anchors: PgAnchors;
  readonly keys: PgKeys;
  readonly notifications: PgNotifications;
  readonly consoleSessions: PgConsoleSessions;
  private readonly db: PgDb;
  private closing: Promise<void> | undefined;

  /** Use openPostgresStore: the schema must be migrated before the store is used. */
  constructor(
    private readonly pool: pg.Pool,
    guard: StoreGuard,
    ledgerRetentionMs: number,
    private readonly markClosed: () => void,
  ) {
    const db = new PgDb(pool, guard);
    this.db = db;
    this.sessions = new PgSessions(db);
    this.assertionIds = new PgAssertionIds(db);
    this.replicas = new PgReplicas(db);
    this.approvals = new PgApprovals(db);
    this.ledger = new PgLedger(db, ledgerRetentionMs);
    this.mcpSessions = new PgMcpSessions(db);
    this.anchors = new PgAnchors(db);
    this.keys = new PgKeys(db);
    this.notifications = new PgNotifications(db);
    this.consoleSessions = new PgConsoleSessions(db);
  }

  /** One round trip on a pooled connection: /readyz fails while the database does not answer. */
  async ping(): Promise<void> {
    await this.db.run(PING, []);
  }

  /** Ends the pool; afterwards every operation fails with store_unavailable. Idempotent. */
  close(): Promise<void> {
    this.markClosed();
    this.closing ??= this.pool.end().catch(() => undefined);
    return this.closing;
  }
}

export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const where = redactPgUrl(options.url);
  const pool = createPgPool({
    url: options.url,
    poolSize: options.poolSize ?? DEFAULT_POOL_SIZE,
    ...(options.onError ? { onIdleError: options.onError } : {}),
    ...(options.applicationName ? { applicationName: options.applicationName } : {}),
  });
  try {
    await migratePg(pool, where);
  } catch (err) {
    await pool.end().catch(() => undefined);
    const message = scrubPassword(err instanceof Error ? err.message : String(err), options.url);
    throw new Error(message.startsWith('PostgreSQL store ') ? message : `PostgreSQL store ${where}: ${message}`);
  }
  let closed = false;
  const store = new PostgresStore(
    pool,
    // A closed store fails at once, like the other backends, instead of asking an ended pool.
    createStoreGuard(options.onError, () => closed),
    options.ledgerRetentionMs ?? DEFAULT_LEDGER_RETENTION_MS,
    () => (closed = true),
  );
  return store;
}
