// Sessions and checkpoints in SQLite (SPEC §5). Statements are prepared once, when the store opens
// (sqlite-prepare.ts; DESIGN rule 3). Each fencing write is one statement or one transaction, so SQLite's
// write lock makes its check and its write one step for every connection and process (DESIGN rule 10).
import type Database from 'better-sqlite3';
import type { StoreGuard } from '../guard.js';
import {
  OPEN_STATES_SQL,
  SESSION_STATES,
  type CheckpointRecord,
  type ConditionalResult,
  type CreateSessionResult,
  type EpochRecord,
  type NewCheckpoint,
  type ResumeUpdate,
  type SessionFilter,
  type SessionRecord,
  type SessionState,
  type SessionStore,
  type TransitionRequest,
} from '../types.js';
import { prepareOne, prepareStatements, pluck, sql, type Statements } from './sqlite-prepare.js';
import { sessionParams, toCheckpoint, toEpoch, toSession, type CheckpointRow, type EpochRow, type SessionRow } from './sqlite-rows.js';
import type { BatchedWrite } from './sqlite-write-batch.js';

const OPEN_STATES = OPEN_STATES_SQL;

const Q = {
  insertSession: sql(
    `INSERT INTO sessions (session_id, task_id, agent_id, state, state_reason, epoch, scope, original_scope,
       created_at, updated_at, lease_expires_at, resumes, metadata)
     VALUES (@session_id, @task_id, @agent_id, @state, @state_reason, @epoch, @scope, @original_scope,
       @created_at, @updated_at, @lease_expires_at, @resumes, @metadata)
     ON CONFLICT (agent_id, task_id) WHERE state IN ${OPEN_STATES} DO NOTHING`,
  ),
  selectOpenByAgentTask: pluck<unknown[], string>(
    `SELECT session_id FROM sessions WHERE agent_id = ? AND task_id = ? AND state IN ${OPEN_STATES}`,
  ),
  selectSession: sql<unknown[], SessionRow>('SELECT * FROM sessions WHERE session_id = ?'),
  countByState: sql<unknown[], { state: SessionState; n: number }>('SELECT state, count(*) AS n FROM sessions GROUP BY state'),
  resume: sql<unknown[], SessionRow>(
    `UPDATE sessions SET epoch = epoch + 1, state = 'active', state_reason = NULL, scope = @scope,
       lease_expires_at = @lease_expires_at, updated_at = @now, resumes = resumes + 1
     WHERE session_id = @session_id AND epoch = @expected_epoch AND state IN ${OPEN_STATES} AND resumes < @max_resumes
     RETURNING *`,
  ),
  // json_each lets one prepared statement take any list of source states.
  transition: sql<unknown[], SessionRow>(
    `UPDATE sessions SET state = @to, state_reason = @reason, updated_at = @now
     WHERE session_id = @session_id AND state IN (SELECT value FROM json_each(@from))
     RETURNING *`,
  ),
  renew: sql(
    `UPDATE sessions SET lease_expires_at = ?, updated_at = ? WHERE session_id = ? AND state = 'active' AND epoch = ?`,
  ),
  suspendExpired: sql<unknown[], SessionRow>(
    `UPDATE sessions SET state = 'suspended', state_reason = 'lease_expired', updated_at = @now
     WHERE state = 'active' AND lease_expires_at <= @now RETURNING *`,
  ),
  closeAged: sql<unknown[], SessionRow>(
    `UPDATE sessions SET state = 'closed', state_reason = 'max_age', updated_at = @now
     WHERE state IN ${OPEN_STATES} AND created_at <= @created_at RETURNING *`,
  ),
  // One statement: the fence (active at this epoch) and seq = previous + 1 are evaluated under the
  // same write lock as the insert.
  insertCheckpoint: sql<unknown[], CheckpointRow>(
    `INSERT INTO checkpoints (checkpoint_id, session_id, seq, epoch, label, state, state_digest, created_at)
     SELECT @checkpoint_id, @session_id,
            coalesce((SELECT max(seq) FROM checkpoints WHERE session_id = @session_id), 0) + 1,
            @epoch, @label, @state, @state_digest, @created_at
     WHERE EXISTS (SELECT 1 FROM sessions WHERE session_id = @session_id AND state = 'active' AND epoch = @epoch)
     RETURNING *`,
  ),
  selectLatestCheckpoint: sql<unknown[], CheckpointRow>('SELECT * FROM checkpoints WHERE session_id = ? ORDER BY seq DESC LIMIT 1'),
  listCheckpoints: sql<unknown[], CheckpointRow>('SELECT * FROM checkpoints WHERE session_id = ? ORDER BY seq DESC LIMIT ?'),
  listEpochs: sql<unknown[], EpochRow>('SELECT * FROM session_epochs WHERE session_id = ? ORDER BY epoch DESC LIMIT ?'),
} as const;

/** Indexed by filter mask (bit 1: state, bit 2: agent id, bit 4: task id): one statement per combination so
 *  each can use an index. */
const LIST_BY_FILTER = Array.from({ length: 8 }, (_, mask) => {
  const clauses = [
    mask & 1 ? 'state = @state' : null,
    mask & 2 ? 'agent_id = @agent_id' : null,
    mask & 4 ? 'task_id = @task_id' : null,
  ].filter((c) => c !== null);
  const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
  return sql<unknown[], SessionRow>(`SELECT * FROM sessions ${where} ORDER BY created_at, session_id LIMIT @limit`);
});

export class SqliteSessions implements SessionStore {
  private readonly sql: Statements<typeof Q>;
  private readonly listByFilter: readonly Database.Statement<unknown[], SessionRow>[];
  private readonly createTx: Database.Transaction<(row: SessionRow) => CreateSessionResult>;

  constructor(
    db: Database.Database,
    private readonly guard: StoreGuard,
    /** Like guard, but the operation runs in the next group commit and settles after its COMMIT. */
    private readonly batched: BatchedWrite,
  ) {
    const q = prepareStatements(db, Q);
    this.sql = q;
    this.listByFilter = LIST_BY_FILTER.map((spec) => prepareOne(db, spec));
    this.createTx = db.transaction((row: SessionRow): CreateSessionResult => {
      if (q.insertSession.run(row).changes === 1) return { ok: true, session: toSession(row) };
      const existing = q.selectOpenByAgentTask.get(row.agent_id, row.task_id);
      // DO NOTHING only fires on the open-session index, so the conflicting row is visible here.
      if (existing === undefined) throw new Error('session insert ignored without an open session for the agent and task');
      return { ok: false, existingSessionId: existing };
    });
  }

  create(session: SessionRecord): Promise<CreateSessionResult> {
    // IMMEDIATE: take the write lock before reading, so the fallback read sees the row that conflicted.
    return this.guard(() => this.createTx.immediate(sessionParams(session)));
  }

  get(sessionId: string): Promise<SessionRecord | null> {
    return this.guard(() => {
      const row = this.sql.selectSession.get(sessionId);
      return row === undefined ? null : toSession(row);
    });
  }

  list(filter: SessionFilter): Promise<SessionRecord[]> {
    return this.guard(() => {
      const mask = (filter.state !== undefined ? 1 : 0) | (filter.agentId !== undefined ? 2 : 0) | (filter.taskId !== undefined ? 4 : 0);
      const params: Record<string, unknown> = { limit: filter.limit ?? -1 };
      if (filter.state !== undefined) params.state = filter.state;
      if (filter.agentId !== undefined) params.agent_id = filter.agentId;
      if (filter.taskId !== undefined) params.task_id = filter.taskId;
      return this.listByFilter[mask]!.all(params).map(toSession);
    });
  }

  countByState(): Promise<Record<SessionState, number>> {
    return this.guard(() => {
      const counts = Object.fromEntries(SESSION_STATES.map((s) => [s, 0])) as Record<SessionState, number>;
      for (const { state, n } of this.sql.countByState.all()) counts[state] = n;
      return counts;
    });
  }

  resume(sessionId: string, update: ResumeUpdate): Promise<ConditionalResult> {
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

  transition(sessionId: string, change: TransitionRequest): Promise<ConditionalResult> {
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

  closeAged(createdAtOrBefore: number, now: number): Promise<SessionRecord[]> {
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

  listCheckpoints(sessionId: string, limit: number): Promise<CheckpointRecord[]> {
    // As the other backends: a negative limit means none (SQLite reads LIMIT -1 as no limit).
    return this.guard(() => this.sql.listCheckpoints.all(sessionId, Math.max(0, limit)).map(toCheckpoint));
  }

  listEpochs(sessionId: string, limit: number): Promise<EpochRecord[]> {
    return this.guard(() => this.sql.listEpochs.all(sessionId, Math.max(0, limit)).map(toEpoch));
  }

  private current(sessionId: string): SessionRecord | null {
    const row = this.sql.selectSession.get(sessionId);
    return row === undefined ? null : toSession(row);
  }
}
