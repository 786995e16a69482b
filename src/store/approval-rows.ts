// Approval row ↔ record mapping, shared by the SQL backends (SQLite and PostgreSQL use the same columns).
// Records come back frozen, as from every backend.
import type { ApprovalRecord, ApprovalState, ExpireReason } from './approval-types.js';

export interface ApprovalRow {
  approval_id: string;
  session_id: string;
  agent_id: string;
  digest: string;
  rule_id: string;
  approver_roles: string;
  state: ApprovalState;
  expire_reason: ExpireReason | null;
  tool: string;
  method: string;
  path: string;
  query: string;
  mcp_tool: string | null;
  body_preview: Buffer | null;
  body_size: number;
  body_sha256: string | null;
  ttl_ms: number;
  requested_epoch: number;
  request_id: string;
  created_at: number;
  expires_at: number;
  updated_at: number;
  decided_by: string | null;
  decided_at: number | null;
  comment: string | null;
  consumed_at: number | null;
  consumed_epoch: number | null;
  consumed_request_id: string | null;
}

export function toApproval(row: ApprovalRow): ApprovalRecord {
  return Object.freeze({
    approvalId: row.approval_id,
    sessionId: row.session_id,
    agentId: row.agent_id,
    digest: row.digest,
    ruleId: row.rule_id,
    approverRoles: Object.freeze(JSON.parse(row.approver_roles) as string[]),
    action: Object.freeze({ tool: row.tool, method: row.method, path: row.path, query: row.query, mcpTool: row.mcp_tool }),
    bodyPreview: row.body_preview === null ? null : new Uint8Array(row.body_preview),
    bodySize: row.body_size,
    bodySha256: row.body_sha256,
    ttlMs: row.ttl_ms,
    requestedEpoch: row.requested_epoch,
    requestId: row.request_id,
    createdAt: row.created_at,
    state: row.state,
    expiresAt: row.expires_at,
    updatedAt: row.updated_at,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    comment: row.comment,
    consumedAt: row.consumed_at,
    consumedEpoch: row.consumed_epoch,
    consumedRequestId: row.consumed_request_id,
    expireReason: row.expire_reason,
  });
}
