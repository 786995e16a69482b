// The positional insert values of an approval for PostgreSQL (rows map to records in ../approval-rows.ts).
import type { NewApproval } from '../approval-types.js';

/** Positional values of the insert ($1 … $18). */
export function approvalValues(a: NewApproval): unknown[] {
  return [
    a.approvalId, a.sessionId, a.agentId, a.digest, a.ruleId, JSON.stringify(a.approverRoles),
    a.action.tool, a.action.method, a.action.path, a.action.query, a.action.mcpTool,
    a.bodyPreview === null ? null : Buffer.from(a.bodyPreview), a.bodySize, a.bodySha256, a.ttlMs,
    a.requestedEpoch, a.requestId, a.createdAt,
  ];
}
