// Response shapes for approvals (SPEC §7, §9). Two audiences: people (approvers, admins) see everything
// including the body preview; the agent, in a resume response, sees what it needs to retry — never the
// body preview, who decided, or their comment. Times are RFC 3339 UTC strings.
import type { ApprovalRecord } from '../store/approval-types.js';
import { rfc3339 } from '../util/clock.js';

const time = (ms: number | null): string | null => (ms === null ? null : rfc3339(ms));

/** "POST billing /refunds?x=1" or "POST crm /mcp → tools/call refund_order": one line for lists and logs. */
export function actionSummary(approval: ApprovalRecord): string {
  const { tool, method, path, query, mcpTool } = approval.action;
  return `${method} ${tool} ${path}${query}${mcpTool !== null ? ` → tools/call ${mcpTool}` : ''}`;
}

/** What approvers and admins see. */
export function approvalView(approval: ApprovalRecord): Record<string, unknown> {
  return {
    ...agentApprovalView(approval),
    agent_id: approval.agentId,
    approver_roles: approval.approverRoles,
    body: bodyView(approval),
    requested_epoch: approval.requestedEpoch,
    updated_at: time(approval.updatedAt),
    decided_by: approval.decidedBy,
    decided_at: time(approval.decidedAt),
    comment: approval.comment,
    consumed_at: time(approval.consumedAt),
    consumed_epoch: approval.consumedEpoch,
    expire_reason: approval.expireReason,
  };
}

/** What the agent sees of its own session's approvals (resume response). */
export function agentApprovalView(approval: ApprovalRecord): Record<string, unknown> {
  const { tool, method, path, query, mcpTool } = approval.action;
  return {
    approval_id: approval.approvalId,
    state: approval.state,
    session_id: approval.sessionId,
    rule_id: approval.ruleId,
    action: { tool, method, path, query, mcp_tool: mcpTool },
    summary: actionSummary(approval),
    digest: approval.digest,
    created_at: rfc3339(approval.createdAt),
    expires_at: rfc3339(approval.expiresAt),
  };
}

/** The stored preview as UTF-8 text when it is text (a multi-byte character cut at 8 KiB is dropped),
 *  else base64. */
function bodyView(approval: ApprovalRecord): Record<string, unknown> | null {
  if (approval.bodyPreview === null) return null;
  const bytes = approval.bodyPreview;
  let preview: string;
  let encoding: 'utf8' | 'base64';
  try {
    // stream: an incomplete sequence at the cut is held back instead of being an error.
    preview = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes, { stream: true });
    encoding = 'utf8';
  } catch {
    preview = Buffer.from(bytes).toString('base64');
    encoding = 'base64';
  }
  return {
    size: approval.bodySize,
    sha256: approval.bodySha256,
    preview,
    preview_encoding: encoding,
    truncated: approval.bodySize > bytes.length,
  };
}
