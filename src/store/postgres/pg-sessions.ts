// Sessions and checkpoints on PostgreSQL (SPEC §5, §17). Every fencing write is ONE statement: the
// condition sits in its WHERE clause, and PostgreSQL re-checks it on the newest row version after waiting
// for a concurrent writer's row lock, so two replicas resuming with the same expected epoch cannot both
// win. The hot-path read (get) is one named statement, one round trip; epochs are never cached.
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
import { sessionParams, toCheckpoint, toEpoch, toSession, type CheckpointRow, type EpochRow, type SessionRow } from '../sqlite/sqlite-rows.js';
import { sql, type PgDb, type PgQueryable } from './pg-db.js';

const OPEN = OPEN_STATES_SQL;

const Q = {
  insert: sql(
    'session_insert',
    `INSERT INTO sessions (session_id, task_id, agent_id, state, state_reason, epoch, scope, original_scope,
       created_at, updated_at, lease_expires_at, resumes, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (agent_id, task_id) WHERE state IN ${OPEN} DO NOTHING
     RETURNING *`,
  ),
  openByAgentTask: sql('session_open_by_agent_task', `SELECT session_id FROM sessions WHERE agent_id = $1 AND task_id = $2 AND state IN ${OPEN}`),
  get: sql('session_get', 'SELECT * FROM sessions WHERE session_id = $1'),
  // Nullable filters keep this to one statement; LIMIT NULL is no limit.
  list: sql(
    'session_list',
    `SELECT * FROM sessions
     WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR agent_id = $2) AND ($3::text IS NULL OR task_id = $3)
     ORDER BY created_at, session_id LIMIT $4`,
  ),
  countByState: sql('session_count_by_state', 'SELECT state, count(*) AS n FROM sessions GROUP BY state'),
  resume: sql(
    'session_resume',
    `UPDATE sessions SET epoch = epoch + 1, state = 'active', state_reason = NULL, scope = $3,
       lease_expires_at = $4, updated_at = $5, resumes = resumes + 1
     WHERE session_id = $1 AND epoch = $2 AND state IN ${OPEN} AND resumes < $6
     RETURNING *`,
  ),
  transition: sql(
    'session_transition',
    `UPDATE sessions SET state = $3, state_reason = $4, updated_at = $5
     WHERE session_id = $1 AND state = ANY ($2::text[]) RETURNING *`,
  ),
  renew: sql(
    'session_renew',
    `UPDATE sessions SET lease_expires_at = $3, updated_at = $4 WHERE session_id = $1 AND state = 'active' AND epoch = $2`,
  ),
  suspendExpired: sql(
    'session_suspend_expired',
    `UPDATE sessions SET state = 'suspended', state_reason = 'lease_expired', updated_at = $1
     WHERE state = 'active' AND lease_expires_at <= $1 RETURNING *`,
  ),
  closeAged: sql(
    'session_close_aged',
    `UPDATE sessions SET state = 'closed', state_reason = 'max_age', updated_at = $2
     WHERE state IN ${OPEN} AND created_at <= $1 RETURNING *`,
  ),
  // One statement: the fence (active at this epoch) and seq = previous + 1 come from the session row,
  // updated (so locked) by the same statement; the trigger on checkpoints closes the previous window.
  appendCheckpoint: sql(
    'checkpoint_append',
    `WITH s AS (
       UPDATE sessions SET checkpoint_seq = checkpoint_seq + 1
       WHERE session_id = $2 AND state = 'active' AND epoch = $3
       RETURNING session_id, checkpoint_seq)
     INSERT INTO checkpoints (checkpoint_id, session_id, seq, epoch, label, state, state_digest, created_at)
     SELECT $1, s.session_id, s.checkpoint_seq, $3, $4, $5, $6, $7 FROM s
     RETURNING *`,
  ),
  latestCheckpoint: sql('checkpoint_latest', 'SELECT * FROM checkpoints WHERE session_id = $1 ORDER BY seq DESC LIMIT 1'),
  listCheckpoints: sql('checkpoint_list', 'SELECT * FROM checkpoints WHERE session_id = $1 ORDER BY seq DESC LIMIT $2'),
  listEpochs: sql('session_epoch_list', 'SELECT * FROM session_epochs WHERE session_id = $1 ORDER BY epoch DESC LIMIT $2'),
} as const;

/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505';

export class PgSessions implements SessionStore {
  constructor(private readonly db: PgDb) {}

  create(session: SessionRecord): Promise<CreateSessionResult> {
    const p = sessionParams(session);
    const values = [p.session_id, p.task_id, p.agent_id, p.state, p.state_reason, p.epoch, p.scope, p.original_scope,
      p.created_at, p.updated_at, p.lease_expires_at, p.resumes, p.metadata];
    return this.db.many(async (db) => {
      // The holder of the open slot may close between the refused insert and the read: try again then.
      for (let attempt = 0; attempt < 3; attempt++) {
        const inserted = await db.one<SessionRow>(Q.insert, values);
        if (inserted !== undefined) return { ok: true, session: toSession(inserted) };
        const holder = await db.one<{ session_id: string }>(Q.openByAgentTask, [p.agent_id, p.task_id]);
        if (holder !== undefined) return { ok: false, existingSessionId: holder.session_id };
      }
      throw new Error('session insert kept conflicting without an open session for the agent and task');
    });
  }

  async get(sessionId: string): Promise<SessionRecord | null> {
    const row = await this.db.one<SessionRow>(Q.get, [sessionId]);
    return row === undefined ? null : toSession(row);
  }

  async list(filter: SessionFilter): Promise<SessionRecord[]> {
    // As the other backends: a negative limit means none.
    const limit = filter.limit === undefined || filter.limit < 0 ? null : filter.limit;
    const rows = await this.db.rows<SessionRow>(Q.list, [filter.state ?? null, filter.agentId ?? null, filter.taskId ?? null, limit]);
    return rows.map(toSession);
  }

  async countByState(): Promise<Record<SessionState, number>> {
    const counts = Object.fromEntries(SESSION_STATES.map((s) => [s, 0])) as Record<SessionState, number>;
    for (const { state, n } of await this.db.rows<{ state: SessionState; n: number }>(Q.countByState, [])) counts[state] = n;
    return counts;
  }

  resume(sessionId: string, u: ResumeUpdate): Promise<ConditionalResult> {
    return this.db.many(async (db) => {
      const values = [sessionId, u.expectedEpoch, JSON.stringify(u.scope), u.leaseExpiresAt, u.now, u.maxResumes];
      const row = await db.one<SessionRow>(Q.resume, values);
      // The refusal reads afresh (a new statement sees the winner's commit), so `current` is what won.
      return row !== undefined ? { ok: true, session: toSession(row) } : { ok: false, current: await current(db, sessionId) };
    });
  }

  transition(sessionId: string, c: TransitionRequest): Promise<ConditionalResult> {
    return this.db.many(async (db) => {
      let row: SessionRow | undefined;
      try {
        row = await db.one<SessionRow>(Q.transition, [sessionId, [...c.from], c.to, c.reason, c.now]);
      } catch (err) {
        // Re-opening a final session while the agent has another open one for the task: refused, like any
        // other transition whose precondition does not hold.
        if ((err as { code?: unknown; constraint?: unknown }).constraint !== 'sessions_open_agent_task') throw err;
        if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
      }
      return row !== undefined ? { ok: true, session: toSession(row) } : { ok: false, current: await current(db, sessionId) };
    });
  }

  async renewLease(sessionId: string, epoch: number, leaseExpiresAt: number, now: number): Promise<boolean> {
    return (await this.db.run(Q.renew, [sessionId, epoch, leaseExpiresAt, now])) === 1;
  }

  async suspendExpiredLeases(now: number): Promise<SessionRecord[]> {
    return (await this.db.rows<SessionRow>(Q.suspendExpired, [now])).map(toSession);
  }

  async closeAged(createdAtOrBefore: number, now: number): Promise<SessionRecord[]> {
    return (await this.db.rows<SessionRow>(Q.closeAged, [createdAtOrBefore, now])).map(toSession);
  }

  async appendCheckpoint(c: NewCheckpoint): Promise<CheckpointRecord | null> {
    const values = [c.checkpointId, c.sessionId, c.epoch, c.label, c.state, c.stateDigest, c.createdAt];
    const row = await this.db.one<CheckpointRow>(Q.appendCheckpoint, values);
    return row === undefined ? null : toCheckpoint(row);
  }

  async latestCheckpoint(sessionId: string): Promise<CheckpointRecord | null> {
    const row = await this.db.one<CheckpointRow>(Q.latestCheckpoint, [sessionId]);
    return row === undefined ? null : toCheckpoint(row);
  }

  async listCheckpoints(sessionId: string, limit: number): Promise<CheckpointRecord[]> {
    return (await this.db.rows<CheckpointRow>(Q.listCheckpoints, [sessionId, Math.max(0, limit)])).map(toCheckpoint);
  }

  async listEpochs(sessionId: string, limit: number): Promise<EpochRecord[]> {
    return (await this.db.rows<EpochRow>(Q.listEpochs, [sessionId, Math.max(0, limit)])).map(toEpoch);
  }
}

async function current(db: PgQueryable, sessionId: string): Promise<SessionRecord | null> {
  const row = await db.one<SessionRow>(Q.get, [sessionId]);
  return row === undefined ? null : toSession(row);
}
