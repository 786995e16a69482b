// Audit records of the approval lifecycle (SPEC §13): approval.request, .approve, .deny, .consume, .expire,
// each with the session, rule, digest, who acted and a disposition. Ids, digests and codes only: never the
// body preview, the query or a comment (free text from a person may hold anything).
import { SYSTEM_ACTOR } from '../audit/envelope.js';
import type { AuditEvent, AuditEventName, Disposition } from '../audit/types.js';
import type { ApprovalRecord } from '../store/approval-types.js';

export type ApprovalEventName = Extract<AuditEventName, `approval.${string}`>;

// SPEC §13 disposition_id: 14 delayed while a call waits on a pending approval, 8 approved (a person
// approved, or a call consumed the approval and went through), 25 rejected (a person denied). An expired
// approval blocks nothing by itself, but can no longer let a call through: 2 blocked.
export const APPROVAL_DISPOSITION: Readonly<Record<ApprovalEventName, Disposition>> = {
  'approval.request': 'delayed',
  'approval.approve': 'approved',
  'approval.deny': 'rejected',
  'approval.consume': 'approved',
  'approval.expire': 'blocked',
};

/** unmapped.epochgate members shared by every approval record. */
export function approvalAuditExtra(approval: ApprovalRecord): Record<string, unknown> {
  return {
    approval_id: approval.approvalId,
    approval_state: approval.state,
    rule_id: approval.ruleId,
    digest: approval.digest,
    agent_id: approval.agentId,
    ...(approval.expireReason !== null ? { reason: approval.expireReason } : {}),
    ...(approval.decidedBy !== null ? { decided_by: approval.decidedBy } : {}),
  };
}

/** An expiry noticed outside any request (the sweep) or beside a control-plane action. */
export function systemExpireEvent(approval: ApprovalRecord, now: number, requestId?: string): AuditEvent {
  return {
    event: 'approval.expire',
    time: now,
    ...(requestId ? { requestId } : {}),
    status: 'ok',
    disposition: APPROVAL_DISPOSITION['approval.expire'],
    actor: SYSTEM_ACTOR,
    sessionId: approval.sessionId,
    authorizations: [{ decision: 'require_approval', ruleId: approval.ruleId }],
    tool: approval.action.tool,
    extra: approvalAuditExtra(approval),
  };
}
