// Approvals on PostgreSQL (SPEC §9, §17). Every transition is one conditional UPDATE: PostgreSQL re-checks
// its WHERE clause on the newest row version after waiting for a concurrent writer, so a decision and a
// consumption, or two consumptions on two replicas, can never both win (DESIGN rule 10).
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
import { sql, type PgDb } from './pg-db.js';
import { toApproval, type ApprovalRow } from '../approval-rows.js';
import { approvalValues } from './pg-approval-rows.js';

const OPEN = "('pending', 'approved')";

const Q = {
  // At most one pending approval per (session, digest): the partial unique index decides between racers.
  insert: sql(
    'approval_insert',
    `INSERT INTO approvals (approval_id, session_id, agent_id, digest, rule_id, approver_roles, state, tool, method,
       path, query, mcp_tool, body_preview, body_size, body_sha256, ttl_ms, requested_epoch, request_id, created_at,
       expires_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18::bigint + $15::bigint, $18)
     ON CONFLICT (session_id, digest) WHERE state = 'pending' DO NOTHING
     RETURNING *`,
  ),
  expireLapsedPending: sql(
    'approval_expire_lapsed',
    `UPDATE approvals SET state = 'expired', expire_reason = 'ttl', updated_at = $3
     WHERE session_id = $1 AND digest = $2 AND state = 'pending' AND expires_at <= $3 RETURNING *`,
  ),
  selectPending: sql('approval_pending', `SELECT * FROM approvals WHERE session_id = $1 AND digest = $2 AND state = 'pending'`),
  get: sql('approval_get', 'SELECT * FROM approvals WHERE approval_id = $1'),
  forAction: sql(
    'approval_for_action',
    `SELECT * FROM approvals WHERE session_id = $1 AND digest = $2 AND state IN ('pending', 'approved', 'denied')
     ORDER BY created_at DESC, approval_id DESC`,
  ),
  list: sql(
    'approval_list',
    `SELECT * FROM approvals
     WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR session_id = $2)
       AND ($3::text[] IS NULL OR rule_id = ANY ($3::text[]))
     ORDER BY created_at DESC, approval_id DESC LIMIT $4`,
  ),
  open: sql(
    'approval_open',
    `SELECT * FROM approvals WHERE session_id = $1 AND state IN ${OPEN} AND expires_at > $2 ORDER BY created_at, approval_id`,
  ),
  decide: sql(
    'approval_decide',
    `UPDATE approvals SET state = $2, decided_by = $3, decided_at = $5, comment = $4, expires_at = $5::bigint + ttl_ms, updated_at = $5
     WHERE approval_id = $1 AND state = 'pending' AND expires_at > $5 RETURNING *`,
  ),
  // The fence is part of the same statement: consumed only while the session is active at that epoch.
  consume: sql(
    'approval_consume',
    `UPDATE approvals SET state = 'consumed', consumed_at = $2, consumed_epoch = $3, consumed_request_id = $4, updated_at = $2
     WHERE approval_id = $1 AND state = 'approved' AND expires_at > $2
       AND EXISTS (SELECT 1 FROM sessions s WHERE s.session_id = approvals.session_id AND s.state = 'active' AND s.epoch = $3)
     RETURNING *`,
  ),
  expire: sql(
    'approval_expire',
    `UPDATE approvals SET state = 'expired', expire_reason = $3::text, updated_at = $2
     WHERE approval_id = $1 AND (
       ($3::text = 'ttl' AND state IN ${OPEN} AND expires_at <= $2) OR ($3::text = 'approver_revoked' AND state = 'approved'))
     RETURNING *`,
  ),
  expireDue: sql(
    'approval_expire_due',
    `UPDATE approvals SET state = 'expired', expire_reason = 'ttl', updated_at = $1
     WHERE state IN ${OPEN} AND expires_at <= $1 RETURNING *`,
  ),
  expireForSession: sql(
    'approval_expire_for_session',
    `UPDATE approvals SET state = 'expired', expire_reason = $3, updated_at = $2
     WHERE session_id = $1 AND state IN ${OPEN} RETURNING *`,
  ),
  expireOfEndedSessions: sql(
    'approval_expire_of_ended',
    `UPDATE approvals a SET state = 'expired', updated_at = $1,
       expire_reason = CASE s.state WHEN 'closed' THEN 'session_closed' ELSE 'session_revoked' END
     FROM sessions s
     WHERE s.session_id = a.session_id AND s.state IN ('closed', 'revoked') AND a.state IN ${OPEN}
     RETURNING a.*`,
  ),
  countByState: sql('approval_count_by_state', 'SELECT state, count(*) AS n FROM approvals GROUP BY state'),
} as const;

export class PgApprovals implements ApprovalStore {
  constructor(private readonly db: PgDb) {}

  /** One transaction: lapse, lookup and insert; the partial unique index settles a race between replicas. */
  findOrCreatePending(approval: NewApproval): Promise<FindOrCreateResult> {
    return this.db.transaction(async (tx) => {
      const key = [approval.sessionId, approval.digest];
      const expired = (await tx.rows<ApprovalRow>(Q.expireLapsedPending, [...key, approval.createdAt])).map(toApproval);
      for (let attempt = 0; attempt < 3; attempt++) {
        const existing = await tx.one<ApprovalRow>(Q.selectPending, key);
        if (existing !== undefined) return { created: false, approval: toApproval(existing), expired };
        const inserted = await tx.one<ApprovalRow>(Q.insert, approvalValues(approval));
        if (inserted !== undefined) return { created: true, approval: toApproval(inserted), expired };
      }
      throw new Error('pending approval insert kept conflicting without a pending approval');
    });
  }

  async get(approvalId: string): Promise<ApprovalRecord | null> {
    return optional(await this.db.one<ApprovalRow>(Q.get, [approvalId]));
  }

  async listForAction(sessionId: string, digest: string): Promise<ApprovalRecord[]> {
    return (await this.db.rows<ApprovalRow>(Q.forAction, [sessionId, digest])).map(toApproval);
  }

  async list(filter: ApprovalFilter): Promise<ApprovalRecord[]> {
    const limit = filter.limit === undefined || filter.limit < 0 ? null : filter.limit;
    const ruleIds = filter.ruleIds === undefined ? null : [...filter.ruleIds];
    const rows = await this.db.rows<ApprovalRow>(Q.list, [filter.state ?? null, filter.sessionId ?? null, ruleIds, limit]);
    return rows.map(toApproval);
  }

  async listOpen(sessionId: string, now: number): Promise<ApprovalRecord[]> {
    return (await this.db.rows<ApprovalRow>(Q.open, [sessionId, now])).map(toApproval);
  }

  decide(approvalId: string, d: ApprovalDecision): Promise<DecideResult> {
    return this.db.many(async (db): Promise<DecideResult> => {
      const row = await db.one<ApprovalRow>(Q.decide, [approvalId, d.state, d.decidedBy, d.comment, d.now]);
      if (row !== undefined) return { ok: true, approval: toApproval(row) };
      return { ok: false, current: optional(await db.one<ApprovalRow>(Q.get, [approvalId])) };
    });
  }

  async consume(approvalId: string, use: ApprovalUse): Promise<ApprovalRecord | null> {
    return optional(await this.db.one<ApprovalRow>(Q.consume, [approvalId, use.now, use.epoch, use.requestId]));
  }

  async expire(approvalId: string, now: number, reason: ExpireReason): Promise<ApprovalRecord | null> {
    return optional(await this.db.one<ApprovalRow>(Q.expire, [approvalId, now, reason]));
  }

  async expireDue(now: number): Promise<ApprovalRecord[]> {
    return (await this.db.rows<ApprovalRow>(Q.expireDue, [now])).map(toApproval);
  }

  async expireForSession(sessionId: string, now: number, reason: SessionEndReason): Promise<ApprovalRecord[]> {
    return (await this.db.rows<ApprovalRow>(Q.expireForSession, [sessionId, now, reason])).map(toApproval);
  }

  async expireOfEndedSessions(now: number): Promise<ApprovalRecord[]> {
    return (await this.db.rows<ApprovalRow>(Q.expireOfEndedSessions, [now])).map(toApproval);
  }

  async countByState(): Promise<Record<ApprovalState, number>> {
    const counts = Object.fromEntries(APPROVAL_STATES.map((s) => [s, 0])) as Record<ApprovalState, number>;
    for (const { state, n } of await this.db.rows<{ state: ApprovalState; n: number }>(Q.countByState, [])) counts[state] = n;
    return counts;
  }
}

function optional(row: ApprovalRow | undefined): ApprovalRecord | null {
  return row === undefined ? null : toApproval(row);
}
