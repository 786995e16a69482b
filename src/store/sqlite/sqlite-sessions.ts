// Sessions and checkpoints in SQLite (SPEC §5). Statements are prepared once (sqlite-statements.ts). Each
// fencing write is one statement or one transaction, so SQLite's write lock makes its check and its write
// one step for every connection and process (DESIGN rule 10).
import type { StoreGuard } from '../guard.js';
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
  type SessionStore,
  type TransitionRequest,
} from '../types.js';
import { sessionParams, toCheckpoint, toSession, type SessionRow } from './sqlite-rows.js';
import type { SqliteStatements } from './sqlite-statements.js';
import type { BatchedWrite } from './sqlite-write-batch.js';

export class SqliteSessions implements SessionStore {
  constructor(
    private readonly sql: SqliteStatements,
    private readonly guard: StoreGuard,
    /** Like guard, but the operation runs in the next group commit and settles after its COMMIT. */
    private readonly batched: BatchedWrite,
  ) {}

  create(session: SessionRecord): Promise<CreateSessionResult> {
    // IMMEDIATE: take the write lock before reading, so the fallback read sees the row that conflicted.
    return this.guard(() => this.sql.createTx.immediate(sessionParams(session)));
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
      return this.sql.listByFilter.get(mask)!.all(params).map(toSession);
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

  private current(sessionId: string): SessionRecord | null {
    const row = this.sql.selectSession.get(sessionId);
    return row === undefined ? null : toSession(row);
  }
}
