// What the console's approval pages show, read through the same domain operations as the control API
// (ApprovalService.list/get decide what a person may see) plus direct reads where the API reads directly
// (the session record, its ledger).
import { decidableRules } from '../approvals/approval-service.js';
import type { PersonDef } from '../policy/types.js';
import type { ApprovalRecord } from '../store/approval-types.js';
import type { LedgerEntry } from '../store/ledger-types.js';
import type { SessionRecord } from '../store/types.js';
import { rfc3339 } from '../util/clock.js';
import type { ConsoleDeps } from './console-deps.js';

/** One row of the inbox, as the page renders it and as the live stream sends it (all plain text). */
export interface InboxItem {
  readonly approval_id: string;
  readonly summary: string;
  readonly agent_id: string;
  readonly session_id: string;
  readonly rule_id: string;
  readonly created_at: string;
  readonly expires_at: string;
}

/** "POST billing /refunds?x=1" or "POST crm / → tools/call refund_order". */
export function actionLine(approval: ApprovalRecord): string {
  const { tool, method, path, query, mcpTool } = approval.action;
  return `${method} ${tool} ${path}${query}${mcpTool !== null ? ` → tools/call ${mcpTool}` : ''}`;
}

/** The pending, unexpired approvals this person may decide now (admin alone decides nothing). */
export async function inboxItems(deps: ConsoleDeps, person: PersonDef): Promise<InboxItem[]> {
  const rules = decidableRules(deps.policy.current(), person);
  if (rules.length === 0) return [];
  const now = deps.clock.now();
  const pending = await deps.approvals.list(person, { state: 'pending' });
  return pending
    .filter((a) => rules.includes(a.ruleId) && a.expiresAt > now)
    .map((a) => ({
      approval_id: a.approvalId,
      summary: actionLine(a),
      agent_id: a.agentId,
      session_id: a.sessionId,
      rule_id: a.ruleId,
      created_at: rfc3339(a.createdAt),
      expires_at: rfc3339(a.expiresAt),
    }));
}

export interface ApprovalPageData {
  readonly approval: ApprovalRecord;
  readonly session: SessionRecord | null;
  readonly mayDecide: boolean;
  /** Other approvals of the same session this person may see, newest first. */
  readonly siblings: readonly ApprovalRecord[];
  /** The session's recent side-effecting calls (its ledger), newest first. */
  readonly calls: readonly LedgerEntry[];
}

/** Recent calls shown on a page. */
const RECENT = 20;

export async function approvalPageData(deps: ConsoleDeps, person: PersonDef, approvalId: string): Promise<ApprovalPageData> {
  const approval = await deps.approvals.get(person, approvalId);
  const mayDecide = decidableRules(deps.policy.current(), person).includes(approval.ruleId);
  const [session, siblings, calls] = await Promise.all([
    deps.store.sessions.get(approval.sessionId),
    deps.approvals.list(person, { sessionId: approval.sessionId }),
    deps.store.ledger.list(approval.sessionId, deps.clock.now()),
  ]);
  return {
    approval,
    session,
    mayDecide,
    siblings: siblings.filter((a) => a.approvalId !== approval.approvalId).slice(0, RECENT),
    calls: recentFirst(calls).slice(0, RECENT),
  };
}

export const recentFirst = (entries: readonly LedgerEntry[]): LedgerEntry[] => [...entries].sort((a, b) => b.createdAt - a.createdAt);
