// The details of a notification, read from the store when it is enqueued: the approval's action and rule,
// the session's agent and task. Only what an approver may see (SPEC §18): ids, agent, task, tool, method,
// path, MCP tool, rule, times. Never a token, secret, body, body preview, query, argument or comment.
import type { ApprovalRecord } from '../store/approval-types.js';
import type { SessionRecord, Store } from '../store/types.js';
import type { NotificationFacts } from './events.js';

/** The payload members every format starts from; a member is absent when it does not apply. */
export interface NotificationDetails {
  readonly event: string;
  readonly occurredAt: number;
  readonly sessionId?: string;
  readonly agentId?: string;
  readonly taskId?: string;
  readonly epoch?: number;
  readonly tool?: string;
  readonly method?: string;
  readonly path?: string;
  readonly mcpTool?: string;
  readonly approvalId?: string;
  readonly ruleId?: string;
  readonly expiresAt?: number;
  readonly decidedBy?: string;
  readonly revokedBy?: string;
  readonly reason?: string;
  readonly entryId?: string;
}

export async function describeNotification(store: Store, facts: NotificationFacts): Promise<NotificationDetails> {
  const approval = facts.approvalId === null ? null : await store.approvals.get(facts.approvalId);
  const sessionId = facts.sessionId ?? approval?.sessionId ?? null;
  const session = sessionId === null ? null : await store.sessions.get(sessionId);
  return {
    event: facts.event,
    occurredAt: facts.occurredAt,
    ...(sessionId !== null ? { sessionId } : {}),
    ...sessionDetails(session, approval),
    ...(approval !== null ? approvalDetails(approval) : facts.approvalId !== null ? { approvalId: facts.approvalId } : {}),
    ...(facts.event === 'session.revoke' && facts.personId !== null ? { revokedBy: facts.personId } : {}),
    ...(facts.ledger !== null ? ledgerDetails(facts.ledger) : {}),
  };
}

function sessionDetails(session: SessionRecord | null, approval: ApprovalRecord | null): Partial<NotificationDetails> {
  const agentId = session?.agentId ?? approval?.agentId;
  return {
    ...(agentId !== undefined ? { agentId } : {}),
    ...(session !== null ? { taskId: session.taskId, epoch: session.epoch } : {}),
  };
}

function approvalDetails(approval: ApprovalRecord): Partial<NotificationDetails> {
  const { tool, method, path, mcpTool } = approval.action;
  return {
    approvalId: approval.approvalId,
    ruleId: approval.ruleId,
    tool,
    method,
    path,
    ...(mcpTool !== null ? { mcpTool } : {}),
    expiresAt: approval.expiresAt,
    ...(approval.decidedBy !== null ? { decidedBy: approval.decidedBy } : {}),
    ...(approval.state === 'expired' && approval.expireReason !== null ? { reason: approval.expireReason } : {}),
  };
}

function ledgerDetails(ledger: NonNullable<NotificationFacts['ledger']>): Partial<NotificationDetails> {
  return {
    entryId: ledger.entryId,
    ...(ledger.tool !== null ? { tool: ledger.tool } : {}),
    ...(ledger.method !== null ? { method: ledger.method } : {}),
    ...(ledger.path !== null ? { path: ledger.path } : {}),
    ...(ledger.mcpTool !== null ? { mcpTool: ledger.mcpTool } : {}),
    ...(ledger.reason !== null ? { reason: ledger.reason } : {}),
  };
}
