// Approvals in SQLite (SPEC §9). Statements are prepared once when the store opens (DESIGN rule 3); every
// transition is one conditional UPDATE … RETURNING (DESIGN rule 10), so under SQLite's write lock exactly
// one of any number of concurrent consumers or deciders — in this process or another — wins.
import type Database from 'better-sqlite3';
import {
  APPROVAL_STATES,
  type ApprovalDecision,
  type ApprovalFilter,
  type ApprovalRecord,
  type ApprovalState,
  type ApprovalStore,
  type ApprovalUse,
  type DecideResult,
  type ExpireReason,
  type FindOrCreateResult,
  type NewApproval,
  type SessionEndReason,
} from '../approval-types.js';
import type { StoreGuard } from '../guard.js';
import { toApproval, type ApprovalRow } from '../approval-rows.js';
import { prepareStatements, sql, type Statements } from './sqlite-prepare.js';

/** A statement answering approval rows. */
const rows = (text: string) => sql<unknown[], ApprovalRow>(text);

const Q = {
  insert: sql(
    `INSERT INTO approvals (approval_id, session_id, agent_id, digest, rule_id, approver_roles, state, tool, method,
       path, query, mcp_tool, body_preview, body_size, body_sha256, ttl_ms, requested_epoch, request_id, created_at,
       expires_at, updated_at)
     VALUES (@approval_id, @session_id, @agent_id, @digest, @rule_id, @approver_roles, 'pending', @tool, @method,
       @path, @query, @mcp_tool, @body_preview, @body_size, @body_sha256, @ttl_ms, @requested_epoch, @request_id,
       @created_at, @created_at + @ttl_ms, @created_at)`,
  ),
  expireLapsedPending: rows(
    `UPDATE approvals SET state = 'expired', expire_reason = 'ttl', updated_at = @now
     WHERE session_id = @session_id AND digest = @digest AND state = 'pending' AND expires_at <= @now RETURNING *`,
  ),
  selectPending: rows(`SELECT * FROM approvals WHERE session_id = ? AND digest = ? AND state = 'pending'`),
  selectOne: rows('SELECT * FROM approvals WHERE approval_id = ?'),
  selectForAction: rows(
    `SELECT * FROM approvals WHERE session_id = ? AND digest = ? AND state IN ('pending', 'approved', 'denied')
     ORDER BY created_at DESC, approval_id DESC`,
  ),
  // Nullable filters keep this to one statement; json_each takes any list of rule ids.
  selectList: rows(
    `SELECT * FROM approvals
     WHERE (@state IS NULL OR state = @state) AND (@session_id IS NULL OR session_id = @session_id)
       AND (@rule_ids IS NULL OR rule_id IN (SELECT value FROM json_each(@rule_ids)))
     ORDER BY created_at DESC, approval_id DESC LIMIT @limit`,
  ),
  selectOpen: rows(
    `SELECT * FROM approvals WHERE session_id = ? AND state IN ('pending', 'approved') AND expires_at > ?
     ORDER BY created_at, approval_id`,
  ),
  decide: rows(
    `UPDATE approvals SET state = @state, decided_by = @decided_by, decided_at = @now, comment = @comment,
       expires_at = @now + ttl_ms, updated_at = @now
     WHERE approval_id = @approval_id AND state = 'pending' AND expires_at > @now RETURNING *`,
  ),
  consume: rows(
    `UPDATE approvals SET state = 'consumed', consumed_at = @now, consumed_epoch = @epoch,
       consumed_request_id = @request_id, updated_at = @now
     WHERE approval_id = @approval_id AND state = 'approved' AND expires_at > @now
       AND EXISTS (SELECT 1 FROM sessions s WHERE s.session_id = approvals.session_id AND s.state = 'active' AND s.epoch = @epoch)
     RETURNING *`,
  ),
  expire: rows(
    `UPDATE approvals SET state = 'expired', expire_reason = @reason, updated_at = @now
     WHERE approval_id = @approval_id AND (
       (@reason = 'ttl' AND state IN ('pending', 'approved') AND expires_at <= @now) OR
       (@reason = 'approver_revoked' AND state = 'approved'))
     RETURNING *`,
  ),
  expireDue: rows(
    `UPDATE approvals SET state = 'expired', expire_reason = 'ttl', updated_at = @now
     WHERE state IN ('pending', 'approved') AND expires_at <= @now RETURNING *`,
  ),
  // Served by approvals_session_digest (session_id is its first column).
  expireForSession: rows(
    `UPDATE approvals SET state = 'expired', expire_reason = @reason, updated_at = @now
     WHERE session_id = @session_id AND state IN ('pending', 'approved') RETURNING *`,
  ),
  expireOfEndedSessions: rows(
    `UPDATE approvals SET state = 'expired', updated_at = @now,
       expire_reason = CASE (SELECT s.state FROM sessions s WHERE s.session_id = approvals.session_id)
         WHEN 'closed' THEN 'session_closed' ELSE 'session_revoked' END
     WHERE state IN ('pending', 'approved')
       AND session_id IN (SELECT session_id FROM sessions WHERE state IN ('closed', 'revoked'))
     RETURNING *`,
  ),
  countByState: sql<unknown[], { state: ApprovalState; n: number }>('SELECT state, count(*) AS n FROM approvals GROUP BY state'),
} as const;

export class SqliteApprovals implements ApprovalStore {
  private readonly sql: Statements<typeof Q>;
  private readonly findOrCreateTx: Database.Transaction<(approval: NewApproval) => FindOrCreateResult>;

  /** Prepares every statement now, so a schema problem stops start-up instead of a request. */
  constructor(
    db: Database.Database,
    private readonly guard: StoreGuard,
  ) {
    const q = prepareStatements(db, Q);
    this.sql = q;
    // IMMEDIATE (see findOrCreatePending): the lapse, the lookup and the insert run under one write lock.
    this.findOrCreateTx = db.transaction((approval: NewApproval): FindOrCreateResult => {
      const key = { session_id: approval.sessionId, digest: approval.digest, now: approval.createdAt };
      const expired = q.expireLapsedPending.all(key).map(toApproval);
      const existing = q.selectPending.get(approval.sessionId, approval.digest);
      if (existing !== undefined) return { created: false, approval: toApproval(existing), expired };
      q.insert.run(approvalParams(approval));
      return { created: true, approval: toApproval(q.selectOne.get(approval.approvalId)!), expired };
    });
  }

  findOrCreatePending(approval: NewApproval): Promise<FindOrCreateResult> {
    return this.guard(() => this.findOrCreateTx.immediate(approval));
  }

  get(approvalId: string): Promise<ApprovalRecord | null> {
    return this.guard(() => optional(this.sql.selectOne.get(approvalId)));
  }

  listForAction(sessionId: string, digest: string): Promise<ApprovalRecord[]> {
    return this.guard(() => this.sql.selectForAction.all(sessionId, digest).map(toApproval));
  }

  list(filter: ApprovalFilter): Promise<ApprovalRecord[]> {
    return this.guard(() =>
      this.sql.selectList
        .all({
          state: filter.state ?? null,
          session_id: filter.sessionId ?? null,
          rule_ids: filter.ruleIds === undefined ? null : JSON.stringify(filter.ruleIds),
          limit: filter.limit ?? -1,
        })
        .map(toApproval),
    );
  }

  listOpen(sessionId: string, now: number): Promise<ApprovalRecord[]> {
    return this.guard(() => this.sql.selectOpen.all(sessionId, now).map(toApproval));
  }

  decide(approvalId: string, decision: ApprovalDecision): Promise<DecideResult> {
    return this.guard(() => {
      const row = this.sql.decide.get({
        approval_id: approvalId,
        state: decision.state,
        decided_by: decision.decidedBy,
        comment: decision.comment,
        now: decision.now,
      });
      return row !== undefined ? { ok: true, approval: toApproval(row) } : { ok: false, current: optional(this.sql.selectOne.get(approvalId)) };
    });
  }

  consume(approvalId: string, use: ApprovalUse): Promise<ApprovalRecord | null> {
    return this.guard(() => optional(this.sql.consume.get({ approval_id: approvalId, now: use.now, epoch: use.epoch, request_id: use.requestId })));
  }

  expire(approvalId: string, now: number, reason: ExpireReason): Promise<ApprovalRecord | null> {
    return this.guard(() => optional(this.sql.expire.get({ approval_id: approvalId, now, reason })));
  }

  expireDue(now: number): Promise<ApprovalRecord[]> {
    return this.guard(() => this.sql.expireDue.all({ now }).map(toApproval));
  }

  expireForSession(sessionId: string, now: number, reason: SessionEndReason): Promise<ApprovalRecord[]> {
    return this.guard(() => this.sql.expireForSession.all({ session_id: sessionId, now, reason }).map(toApproval));
  }

  expireOfEndedSessions(now: number): Promise<ApprovalRecord[]> {
    return this.guard(() => this.sql.expireOfEndedSessions.all({ now }).map(toApproval));
  }

  countByState(): Promise<Record<ApprovalState, number>> {
    return this.guard(() => {
      const counts = Object.fromEntries(APPROVAL_STATES.map((s) => [s, 0])) as Record<ApprovalState, number>;
      for (const { state, n } of this.sql.countByState.all()) counts[state] = n;
      return counts;
    });
  }
}

function approvalParams(a: NewApproval): Record<string, unknown> {
  return {
    approval_id: a.approvalId,
    session_id: a.sessionId,
    agent_id: a.agentId,
    digest: a.digest,
    rule_id: a.ruleId,
    approver_roles: JSON.stringify(a.approverRoles),
    tool: a.action.tool,
    method: a.action.method,
    path: a.action.path,
    query: a.action.query,
    mcp_tool: a.action.mcpTool,
    body_preview: a.bodyPreview === null ? null : Buffer.from(a.bodyPreview),
    body_size: a.bodySize,
    body_sha256: a.bodySha256,
    ttl_ms: a.ttlMs,
    requested_epoch: a.requestedEpoch,
    request_id: a.requestId,
    created_at: a.createdAt,
  };
}

function optional(row: ApprovalRow | undefined): ApprovalRecord | null {
  return row === undefined ? null : toApproval(row);
}
