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

export function slackPayload(details: NotificationDetails, deliveryId: string, link: ConsoleLink): Record<string, unknown> {
  const d = details;
  const action = [d.method, d.tool, d.path].filter((part) => part !== undefined).join(' ');
  const facts: [string, string | number | undefined][] = [
    ['Action', action === '' ? undefined : action], ['MCP tool', d.mcpTool], ['Agent', d.agentId], ['Task', d.taskId],
    ['Session', d.sessionId], ['Rule', d.ruleId], ['Decided by', d.decidedBy], ['Revoked by', d.revokedBy],
    ['Reason', d.reason], ['Expires', d.expiresAt === undefined ? undefined : rfc3339(d.expiresAt)],
  ];
  const lines = facts.filter(([, v]) => v !== undefined).map(([k, v]) => `*${k}:* ${slackEscape(String(v))}`);
  const url = d.approvalId !== undefined ? approvalUrl(link, d.approvalId) : `${link.baseUrl}/`;
  const headline = `${HEADLINES[d.event] ?? d.event}${action === '' ? '' : `: ${action}`}`;
  return {
    text: `epochgate: ${slackEscape(headline)} ${url}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${slackEscape(headline)}*\n${lines.join('\n')}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `<${url}|Open in the epochgate console> · ${deliveryId}` }] },
    ],
  };
}

function approvalUrl(link: ConsoleLink, approvalId: string): string {
  return `${link.baseUrl}/approvals/${encodeURIComponent(approvalId)}`;
}

/** Slack mrkdwn control characters: agent-chosen text (paths, task ids) must not become links or mentions. */
export function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
