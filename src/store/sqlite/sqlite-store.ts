// The embedded Store (SPEC §1, §14). Statements are prepared once at open (sqlite-prepare.ts). Each
// fencing write is one statement or one transaction, so SQLite's write lock makes its check and its write
// one step for every connection and process. The ledger's hot-path writes share a group commit
// (sqlite-write-batch.ts): one IMMEDIATE transaction and one fsync per event-loop turn, not two per call.
import type Database from 'better-sqlite3';
import { createStoreGuard, type StoreGuard } from '../guard.js';
import type { Store } from '../types.js';
import { openSqliteDatabase, type SqliteSynchronous } from './sqlite-connection.js';
import type { SqliteLock } from './sqlite-lock.js';
import { prepareStatements, pluck, sql, type Statements } from './sqlite-prepare.js';
import { SqliteApprovals } from './sqlite-approvals.js';
import { SqliteLedger } from './sqlite-ledger.js';
import { SqliteMcpSessions } from './sqlite-mcp-sessions.js';
import { SqliteAnchors } from './sqlite-anchors.js';
import { SqliteKeys } from './sqlite-keys.js';
import { SqliteNotifications } from './sqlite-notifications.js';
import { SqliteConsoleSessions } from './sqlite-console-sessions.js';
import { SqliteWriteBatch, type BatchedWrite } from './sqlite-write-batch.js';
import { SqliteSessions } from './sqlite-sessions.js';
import { SqliteAssertionIds } from './sqlite-assertion-ids.js';
import { SqliteReplicas } from './sqlite-replicas.js';

export interface SqliteStoreOptions {
  readonly path: string;
  readonly synchronous: SqliteSynchronous;
  /** Called with the raw backend error before it is thrown as store_unavailable (metrics, logs). */
  readonly onError?: (err: unknown) => void;
  /** SPEC §10: how long closed ledger entries keep their metadata (default 7 days). */
  readonly ledgerRetentionMs?: number;
  /** The one-writer lock taken before opening (SPEC §14); released after the database is closed. */
  readonly lock?: SqliteLock;
}

/** Connection settings as SQLite reports them (diagnostics and tests). */
export interface SqliteSettings {
  readonly journalMode: string;
  readonly synchronous: number;
  readonly foreignKeys: number;
  readonly busyTimeout: number;
}

// The store's own statements: the health check and the connection settings it reports.
const Q = {
  selectOne: sql('SELECT 1'),
  journalMode: pluck('PRAGMA journal_mode'),
  synchronous: pluck('PRAGMA synchronous'),
  foreignKeys: pluck('PRAGMA foreign_keys'),
  busyTimeout: pluck('PRAGMA busy_timeout'),
} as const;

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly lock: SqliteLock | undefined;
  private readonly sql: Statements<typeof Q>;
  private readonly batch: SqliteWriteBatch;
  private readonly guard: StoreGuard;
  readonly sessions: SqliteSessions;
  readonly assertionIds: SqliteAssertionIds;
  readonly replicas: SqliteReplicas;
  readonly approvals: SqliteApprovals;
  readonly ledger: SqliteLedger;
  readonly mcpSessions: SqliteMcpSessions;
  readonly anchors: SqliteAnchors;
  readonly keys: SqliteKeys;
  readonly notifications: SqliteNotifications;
  readonly consoleSessions: SqliteConsoleSessions;

  /** Opens (creating if missing) the file; throws an Error naming the path when it is unusable. */
  constructor(options: SqliteStoreOptions) {
    const db = openSqliteDatabase(options.path, options.synchronous);
    this.db = db;
    const guard = createStoreGuard(options.onError);
    this.guard = guard;
    try {
      this.sql = prepareStatements(db, Q);
      this.batch = new SqliteWriteBatch(db);
      // The group commit's promise settles after its COMMIT; its failures go through the same guard.
      const batched: BatchedWrite = (operation) => guard(() => this.batch.run(operation));
      this.sessions = new SqliteSessions(db, guard, batched);
      this.assertionIds = new SqliteAssertionIds(db, guard);
      this.replicas = new SqliteReplicas(db, guard);
      this.approvals = new SqliteApprovals(db, guard);
      this.ledger = new SqliteLedger(db, guard, batched, options.ledgerRetentionMs);
      this.mcpSessions = new SqliteMcpSessions(db, guard);
      this.anchors = new SqliteAnchors(db, guard);
      this.keys = new SqliteKeys(db, guard);
      this.notifications = new SqliteNotifications(db, guard);
      this.consoleSessions = new SqliteConsoleSessions(db, guard);
    } catch (err) {
      db.close();
      throw new Error(`SQLite store ${options.path}: cannot prepare statements: ${(err as Error).message}`, { cause: err });
    }
    this.lock = options.lock;
  }

  ping(): Promise<void> {
    return this.guard(() => {
      this.sql.selectOne.get();
    });
  }

  close(): Promise<void> {
    if (this.db.open) {
      // Writes already queued are committed (their callers are waiting for them), not dropped.
      this.batch.flush();
      this.db.close();
    }
    // After the close: the lock outlives every write (WAL checkpoint included) of this process.
    this.lock?.release();
    return Promise.resolve();
  }

  /** The connection's effective pragmas, as SQLite reports them. */
  settings(): SqliteSettings {
    const q = this.sql;
    return {
      journalMode: String(q.journalMode.get()),
      synchronous: Number(q.synchronous.get()),
      foreignKeys: Number(q.foreignKeys.get()),
      busyTimeout: Number(q.busyTimeout.get()),
    };
  }
}
