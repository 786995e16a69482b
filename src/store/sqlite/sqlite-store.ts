// The embedded Store (SPEC §1, §14). Statements are prepared once at open (sqlite-statements.ts). Each
// fencing write is one statement or one transaction, so SQLite's write lock makes its check and its write
// one step for every connection and process. The ledger's hot-path writes share a group commit
// (sqlite-write-batch.ts): one IMMEDIATE transaction and one fsync per event-loop turn, not two per call.
import type Database from 'better-sqlite3';
import { GatewayError } from '../../errors/gateway-error.js';
import {
  SESSION_STATES,
  type CheckpointRecord,
  type ConditionalResult,
  type CreateSessionResult,
  type NewCheckpoint,
  type ResumeUpdate,
  type SessionFilter,
  type SessionRecord,
  type SessionState,
  type Store,
  type TransitionRequest,
} from '../types.js';
import { openSqliteDatabase, type SqliteSynchronous } from './sqlite-connection.js';
import type { SqliteLock } from './sqlite-lock.js';
import { sessionParams, toCheckpoint, toSession, type SessionRow } from './sqlite-rows.js';
import { prepareStatements, type SqliteStatements } from './sqlite-statements.js';
import { SqliteApprovals } from './sqlite-approvals.js';
import { SqliteLedger } from './sqlite-ledger.js';
import { SqliteMcpSessions } from './sqlite-mcp-sessions.js';
import { SqliteAnchors } from './sqlite-anchors.js';
import { SqliteKeys } from './sqlite-keys.js';
import { SqliteNotifications } from './sqlite-notifications.js';
import { SqliteConsoleSessions } from './sqlite-console-sessions.js';
import { SqliteWriteBatch } from './sqlite-write-batch.js';

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

/** Expired assertion ids are purged at most this often (a cheap indexed delete folded into one insert). */
const ASSERTION_PURGE_INTERVAL_MS = 60_000;

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly onError: ((err: unknown) => void) | undefined;
  private readonly lock: SqliteLock | undefined;
  private nextAssertionPurge = 0;
  private readonly sql: SqliteStatements;
  private readonly batch: SqliteWriteBatch;
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
    try {
      this.sql = prepareStatements(db);
      this.batch = new SqliteWriteBatch(db);
      this.approvals = new SqliteApprovals(db, (operation) => this.guard(operation));
      const batched = <T>(operation: () => T): Promise<T> => this.batched(operation);
      this.ledger = new SqliteLedger(db, (operation) => this.guard(operation), batched, options.ledgerRetentionMs);
      this.mcpSessions = new SqliteMcpSessions(db, (operation) => this.guard(operation));
      this.anchors = new SqliteAnchors(db, (operation) => this.guard(operation));
      this.keys = new SqliteKeys(db, (operation) => this.guard(operation));
      this.notifications = new SqliteNotifications(db, (operation) => this.guard(operation));
      this.consoleSessions = new SqliteConsoleSessions(db, (operation) => this.guard(operation));
    } catch (err) {
      db.close();
      throw new Error(`SQLite store ${options.path}: cannot prepare statements: ${(err as Error).message}`, { cause: err });
    }
    this.onError = options.onError;
    this.lock = options.lock;
  }

  createSession(session: SessionRecord): Promise<CreateSessionResult> {
    // IMMEDIATE: take the write lock before reading, so the fallback read sees the row that conflicted.
    return this.guard(() => this.sql.createTx.immediate(sessionParams(session)));
  }

  getSession(sessionId: string): Promise<SessionRecord | null> {
    return this.guard(() => {
      const row = this.sql.selectSession.get(sessionId);
      return row === undefined ? null : toSession(row);
    });
  }

  listSessions(filter: SessionFilter): Promise<SessionRecord[]> {
    return this.guard(() => {
      const mask = (filter.state !== undefined ? 1 : 0) | (filter.agentId !== undefined ? 2 : 0) | (filter.taskId !== undefined ? 4 : 0);
      const params: Record<string, unknown> = { limit: filter.limit ?? -1 };
      if (filter.state !== undefined) params.state = filter.state;
      if (filter.agentId !== undefined) params.agent_id = filter.agentId;
      if (filter.taskId !== undefined) params.task_id = filter.taskId;
      return this.sql.listByFilter.get(mask)!.all(params).map(toSession);
    });
  }

  countSessionsByState(): Promise<Record<SessionState, number>> {
    return this.guard(() => {
      const counts = Object.fromEntries(SESSION_STATES.map((s) => [s, 0])) as Record<SessionState, number>;
      for (const { state, n } of this.sql.countByState.all()) counts[state] = n;
      return counts;
    });
  }

  resumeSession(sessionId: string, update: ResumeUpdate): Promise<ConditionalResult> {
    return this.guard(() => {
      const row = this.sql.resume.get({
        session_id: sessionId,
        expected_epoch: update.expectedEpoch,
        scope: JSON.stringify(update.scope),
        lease_expires_at: update.leaseExpiresAt,
        now: update.now,
        max_resumes: update.maxResumes,
      });
      return row !== undefined ? { ok: true, session: toSession(row) } : { ok: false, current: this.current(sessionId) };
    });
  }

  transitionSession(sessionId: string, change: TransitionRequest): Promise<ConditionalResult> {
    return this.guard(() => {
      let row: SessionRow | undefined;
      try {
        row = this.sql.transition.get({
          session_id: sessionId,
          from: JSON.stringify(change.from),
          to: change.to,
          reason: change.reason,
          now: change.now,
        });
      } catch (err) {
        // Re-opening a final session while the agent has another open one for the task: refused, like
        // any other transition whose precondition does not hold.
        if ((err as { code?: unknown }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw err;
      }
      return row !== undefined ? { ok: true, session: toSession(row) } : { ok: false, current: this.current(sessionId) };
    });
  }

  renewLease(sessionId: string, epoch: number, leaseExpiresAt: number, now: number): Promise<boolean> {
    // Group commit: when a lease falls due, every call of the session in flight renews it (SPEC §5's
    // amortised renewal); those land in one batch and one fsync instead of one each.
    return this.batched(() => this.sql.renew.run(leaseExpiresAt, now, sessionId, epoch).changes === 1);
  }

  suspendExpiredLeases(now: number): Promise<SessionRecord[]> {
    return this.guard(() => this.sql.suspendExpired.all({ now }).map(toSession));
  }

  closeAgedSessions(createdAtOrBefore: number, now: number): Promise<SessionRecord[]> {
    return this.guard(() => this.sql.closeAged.all({ created_at: createdAtOrBefore, now }).map(toSession));
  }

  appendCheckpoint(checkpoint: NewCheckpoint): Promise<CheckpointRecord | null> {
    return this.guard(() => {
      const row = this.sql.insertCheckpoint.get({
        checkpoint_id: checkpoint.checkpointId,
        session_id: checkpoint.sessionId,
        epoch: checkpoint.epoch,
        label: checkpoint.label,
        state: checkpoint.state,
        state_digest: checkpoint.stateDigest,
        created_at: checkpoint.createdAt,
      });
      return row === undefined ? null : toCheckpoint(row);
    });
  }

  latestCheckpoint(sessionId: string): Promise<CheckpointRecord | null> {
    return this.guard(() => {
      const row = this.sql.selectLatestCheckpoint.get(sessionId);
      return row === undefined ? null : toCheckpoint(row);
    });
  }

  useAssertionId(key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.guard(() => {
      const purge = now >= this.nextAssertionPurge;
      const fresh = this.sql.useAssertionTx.immediate(key, expiresAt, now, purge);
      // Advanced only after the commit: a failed purge is retried on the next call.
      if (purge) this.nextAssertionPurge = now + ASSERTION_PURGE_INTERVAL_MS;
      return fresh;
    });
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
    const [journalMode, synchronous, foreignKeys, busyTimeout] = this.sql.pragmaStatements.map((s) => s.get());
    return { journalMode: String(journalMode), synchronous: Number(synchronous), foreignKeys: Number(foreignKeys), busyTimeout: Number(busyTimeout) };
  }

  private current(sessionId: string): SessionRecord | null {
    const row = this.sql.selectSession.get(sessionId);
    return row === undefined ? null : toSession(row);
  }

  /** Runs one synchronous backend operation; any failure of it becomes store_unavailable (fail closed). */
  private guard<T>(operation: () => T): Promise<T> {
    try {
      return Promise.resolve(operation());
    } catch (err) {
      return Promise.reject(this.storeError(err));
    }
  }

  /** Like guard, but the operation runs in the next group commit and settles after its COMMIT. */
  private batched<T>(operation: () => T): Promise<T> {
    return this.batch.run(operation).catch((err: unknown) => {
      throw this.storeError(err);
    });
  }

  private storeError(err: unknown): GatewayError {
    try {
      this.onError?.(err);
    } catch {
      // A failing observer must not replace the store error the caller needs to see.
    }
    return new GatewayError('store_unavailable', { cause: err });
  }
}
