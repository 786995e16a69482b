// Every SQL statement of the SQLite store, prepared once when the store opens (DESIGN rule 3). Each fencing
// write is a single statement or a single transaction (DESIGN rule 10): the condition and the write run
// under one write lock, so no other connection or process can slip in between.
import type Database from 'better-sqlite3';
import type { CreateSessionResult, SessionState } from '../types.js';
import { toSession, type CheckpointRow, type SessionRow } from './sqlite-rows.js';

const OPEN_STATES = "('active', 'suspended')";

/** Bit 1: state, bit 2: agent id, bit 4: task id — one statement per combination so each can use an index. */
export type ListMask = number;

export type SqliteStatements = ReturnType<typeof prepareStatements>;

export function prepareStatements(db: Database.Database) {
  const insertSession = db.prepare(
    `INSERT INTO sessions (session_id, task_id, agent_id, state, state_reason, epoch, scope, original_scope,
       created_at, updated_at, lease_expires_at, resumes, metadata)
     VALUES (@session_id, @task_id, @agent_id, @state, @state_reason, @epoch, @scope, @original_scope,
       @created_at, @updated_at, @lease_expires_at, @resumes, @metadata)
     ON CONFLICT (agent_id, task_id) WHERE state IN ${OPEN_STATES} DO NOTHING`,
  );
  const selectOpenByAgentTask = db
    .prepare<unknown[], string>(`SELECT session_id FROM sessions WHERE agent_id = ? AND task_id = ? AND state IN ${OPEN_STATES}`)
    .pluck();
  const selectSession = db.prepare<unknown[], SessionRow>('SELECT * FROM sessions WHERE session_id = ?');
  const listByFilter = prepareListStatements(db);
  const countByState = db.prepare<unknown[], { state: SessionState; n: number }>('SELECT state, count(*) AS n FROM sessions GROUP BY state');
  const resume = db.prepare<unknown[], SessionRow>(
    `UPDATE sessions SET epoch = epoch + 1, state = 'active', state_reason = NULL, scope = @scope,
       lease_expires_at = @lease_expires_at, updated_at = @now, resumes = resumes + 1
     WHERE session_id = @session_id AND epoch = @expected_epoch AND state IN ${OPEN_STATES} AND resumes < @max_resumes
     RETURNING *`,
  );
  // json_each lets one prepared statement take any list of source states.
  const transition = db.prepare<unknown[], SessionRow>(
    `UPDATE sessions SET state = @to, state_reason = @reason, updated_at = @now
     WHERE session_id = @session_id AND state IN (SELECT value FROM json_each(@from))
     RETURNING *`,
  );
  const renew = db.prepare(
    `UPDATE sessions SET lease_expires_at = ?, updated_at = ? WHERE session_id = ? AND state = 'active' AND epoch = ?`,
  );
  const suspendExpired = db.prepare<unknown[], SessionRow>(
    `UPDATE sessions SET state = 'suspended', state_reason = 'lease_expired', updated_at = @now
     WHERE state = 'active' AND lease_expires_at <= @now RETURNING *`,
  );
  const closeAged = db.prepare<unknown[], SessionRow>(
    `UPDATE sessions SET state = 'closed', state_reason = 'max_age', updated_at = @now
     WHERE state IN ${OPEN_STATES} AND created_at <= @created_at RETURNING *`,
  );
  // One statement: the fence (active at this epoch) and seq = previous + 1 are evaluated under the
  // same write lock as the insert.
  const insertCheckpoint = db.prepare<unknown[], CheckpointRow>(
    `INSERT INTO checkpoints (checkpoint_id, session_id, seq, epoch, label, state, state_digest, created_at)
     SELECT @checkpoint_id, @session_id,
            coalesce((SELECT max(seq) FROM checkpoints WHERE session_id = @session_id), 0) + 1,
            @epoch, @label, @state, @state_digest, @created_at
     WHERE EXISTS (SELECT 1 FROM sessions WHERE session_id = @session_id AND state = 'active' AND epoch = @epoch)
     RETURNING *`,
  );
  const selectLatestCheckpoint = db.prepare<unknown[], CheckpointRow>('SELECT * FROM checkpoints WHERE session_id = ? ORDER BY seq DESC LIMIT 1');
  // An entry past its expiry counts as forgotten (types.ts allows it), whether or not the purge ran yet:
  // that keeps the answer independent of purge timing.
  const insertAssertion = db.prepare(
    `INSERT INTO used_assertions (key, expires_at) VALUES (?, ?)
     ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE used_assertions.expires_at < ?`,
  );
  const purgeAssertions = db.prepare('DELETE FROM used_assertions WHERE expires_at < ?');
  const selectOne = db.prepare('SELECT 1');
  const pragmaStatements = ['journal_mode', 'synchronous', 'foreign_keys', 'busy_timeout'].map((name) =>
    db.prepare(`PRAGMA ${name}`).pluck(),
  );

  const createTx = db.transaction((row: SessionRow): CreateSessionResult => {
    if (insertSession.run(row).changes === 1) return { ok: true, session: toSession(row) };
    const existing = selectOpenByAgentTask.get(row.agent_id, row.task_id);
    // DO NOTHING only fires on the open-session index, so the conflicting row is visible here.
    if (existing === undefined) throw new Error('session insert ignored without an open session for the agent and task');
    return { ok: false, existingSessionId: existing };
  });
  const useAssertionTx = db.transaction((key: string, expiresAt: number, now: number, purge: boolean): boolean => {
    if (purge) purgeAssertions.run(now);
    return insertAssertion.run(key, expiresAt, now).changes === 1;
  });
  return {
    selectSession,
    listByFilter,
    countByState,
    resume,
    transition,
    renew,
    suspendExpired,
    closeAged,
    insertCheckpoint,
    selectLatestCheckpoint,
    selectOne,
    pragmaStatements,
    createTx,
    useAssertionTx,
  } as const;
}

function prepareListStatements(db: Database.Database): ReadonlyMap<ListMask, Database.Statement<unknown[], SessionRow>> {
  const statements = new Map<ListMask, Database.Statement<unknown[], SessionRow>>();
  for (let mask = 0; mask < 8; mask++) {
    const clauses = [
      mask & 1 ? 'state = @state' : null,
      mask & 2 ? 'agent_id = @agent_id' : null,
      mask & 4 ? 'task_id = @task_id' : null,
    ].filter((c) => c !== null);
    const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
    statements.set(mask, db.prepare<unknown[], SessionRow>(`SELECT * FROM sessions ${where} ORDER BY created_at, session_id LIMIT @limit`));
  }
  return statements;
}
