// The body POSTed for one delivery (SPEC §18): JSON with snake_case members, or for `format: slack` a
// Slack-compatible {text, blocks} message with a link to the console. Built once at enqueue time and stored
// as is, so every retry sends (and signs) the same bytes.
import { rfc3339 } from '../util/clock.js';
import type { ConsoleLink } from './console-link.js';
import type { NotificationDetails } from './describe.js';

export function jsonPayload(details: NotificationDetails, deliveryId: string, link: ConsoleLink): Record<string, unknown> {
  const d = details;
  const optional: [string, unknown][] = [
    ['session_id', d.sessionId], ['agent_id', d.agentId], ['task_id', d.taskId], ['epoch', d.epoch],
    ['tool', d.tool], ['method', d.method], ['path', d.path], ['mcp_tool', d.mcpTool],
    ['approval_id', d.approvalId], ['rule_id', d.ruleId],
    ['expires_at', d.expiresAt === undefined ? undefined : rfc3339(d.expiresAt)],
    ['decided_by', d.decidedBy], ['revoked_by', d.revokedBy], ['reason', d.reason], ['entry_id', d.entryId],
    ['approval_url', link.enabled && d.approvalId !== undefined ? approvalUrl(link, d.approvalId) : undefined],
  ];
  return {
    event: d.event,
    delivery_id: deliveryId,
    occurred_at: rfc3339(d.occurredAt),
    ...Object.fromEntries(optional.filter(([, value]) => value !== undefined)),
  };
}

const HEADLINES: Readonly<Record<string, string>> = {
  'approval.request': 'Approval requested',
  'approval.approve': 'Approval granted',
  'approval.deny': 'Approval denied',
  'approval.expire': 'Approval expired',
  'session.revoke': 'Session revoked',
  'ledger.unknown': 'Call outcome unknown',
};

/**
 * Everything an agent chose (paths, tool and task ids) goes into `plain_text` objects, which Slack shows as
 * they are: no bold or strike-through, links or mentions an agent could slip into an approver's channel. Each
 * text is clipped so a long path cannot exceed Slack's block limits and have every retry rejected.
 */
export function slackPayload(details: NotificationDetails, deliveryId: string, link: ConsoleLink): Record<string, unknown> {
  const d = details;
  const action = [d.method, d.tool, d.path].filter((part) => part !== undefined).join(' ');
  const facts: [string, string | number | undefined][] = [
    ['Action', action === '' ? undefined : action], ['MCP tool', d.mcpTool], ['Agent', d.agentId], ['Task', d.taskId],
    ['Session', d.sessionId], ['Rule', d.ruleId], ['Decided by', d.decidedBy], ['Revoked by', d.revokedBy],
    ['Reason', d.reason], ['Expires', d.expiresAt === undefined ? undefined : rfc3339(d.expiresAt)],
  ];
  const fields = facts.filter(([, v]) => v !== undefined).map(([k, v]) => plainText(`${k}: ${String(v)}`));
  const url = d.approvalId !== undefined ? approvalUrl(link, d.approvalId) : `${link.baseUrl}/`;
  const headline = plainText(`${HEADLINES[d.event] ?? d.event}${action === '' ? '' : `: ${action}`}`);
  return {
    text: `epochgate: ${headline.text} ${url}`,
    blocks: [
      { type: 'section', text: headline },
      ...(fields.length > 0 ? [{ type: 'section', fields }] : []),
      { type: 'context', elements: [{ type: 'mrkdwn', text: `<${url}|Open in the epochgate console> · ${deliveryId}` }] },
    ],
  };
}

/** Slack allows 2000 characters in a section field; a clipped text ends with an ellipsis. */
const MAX_TEXT = 1000;

function clip(text: string): string {
  // Never ends inside an escape (`&am…`), which Slack would show as it is.
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1).replace(/&[a-z]{0,3}$/, '')}…`;
}

function plainText(text: string): { type: 'plain_text'; text: string; emoji: false } {
  return { type: 'plain_text', text: clip(slackEscape(text)), emoji: false };
}

function approvalUrl(link: ConsoleLink, approvalId: string): string {
  return `${link.baseUrl}/approvals/${encodeURIComponent(approvalId)}`;
}

/** Slack's control characters, escaped in every text it is sent: agent-chosen text must not become a link or a mention. */
export function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
