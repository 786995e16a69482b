// Human-readable output of `epochgate approvals` (the --json output is the API's own JSON, untouched).
// Everything printed comes from the control plane's approval view (control/approval-views.ts).

import { formatTable } from './control-client.js';

type View = Record<string, unknown>;

// The agent controls the body, path and query an approver reads here. Control characters (terminal escape
// sequences could rewrite what is shown) and bidi overrides (could reorder it) are printed as \uXXXX.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Printable form of untrusted text; newlines and tabs are kept only where `multiline`. */
export function safeText(text: string, multiline = false): string {
  const escaped = text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return multiline ? escaped : escaped.replace(/[\n\t]/g, (c) => (c === '\n' ? '\\n' : '\\t'));
}

const str = (value: unknown): string => (value === null || value === undefined ? '-' : safeText(String(value)));

/** One row per approval, columns padded to the widest cell. */
export function approvalTable(approvals: readonly View[]): string {
  if (approvals.length === 0) return 'No approvals.\n';
  const header = ['ID', 'STATE', 'RULE', 'ACTION', 'SESSION', 'CREATED', 'EXPIRES'];
  const rows = approvals.map((a) => [a.approval_id, a.state, a.rule_id, a.summary, a.session_id, a.created_at, a.expires_at].map(str));
  return formatTable(header, rows);
}

/** Every field of one approval, then the body preview (approvers need to see what they approve). */
export function approvalDetail(a: View): string {
  const action = (a.action ?? {}) as View;
  const body = a.body as View | null | undefined;
  const fields: [string, unknown][] = [
    ['approval', a.approval_id],
    ['state', a.state],
    ['action', a.summary],
    ['tool', action.tool],
    ['method', action.method],
    ['path', action.path],
    ['query', action.query === '' ? null : action.query],
    ['mcp tool', action.mcp_tool],
    ['rule', a.rule_id],
    ['approver roles', Array.isArray(a.approver_roles) ? a.approver_roles.join(', ') : a.approver_roles],
    ['session', a.session_id],
    ['agent', a.agent_id],
    ['epoch requested', a.requested_epoch],
    ['digest', a.digest],
    ['created', a.created_at],
    ['expires', a.expires_at],
    ['decided by', a.decided_by],
    ['decided at', a.decided_at],
    ['comment', a.comment],
    ['consumed at', a.consumed_at],
    ['expire reason', a.expire_reason],
  ];
  const width = Math.max(...fields.map(([k]) => k.length)) + 1;
  let out = fields
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${`${k}:`.padEnd(width)} ${str(v)}\n`)
    .join('');
  if (body) {
    const note = body.truncated ? `, first ${Buffer.byteLength(String(body.preview), body.preview_encoding === 'base64' ? 'base64' : 'utf8')} bytes shown` : '';
    out += `${'body:'.padEnd(width)} ${str(body.size)} bytes, sha256 ${str(body.sha256)}${note}\n`;
    out += body.preview_encoding === 'base64' ? `(binary, base64)\n${str(body.preview)}\n` : `${safeText(String(body.preview), true)}\n`;
  } else {
    out += `${'body:'.padEnd(width)} none\n`;
  }
  return out;
}

/** One line after a decision. */
export function decisionLine(a: View): string {
  if (a.state === 'approved') return `Approved ${str(a.approval_id)} (${str(a.summary)}); usable once until ${str(a.expires_at)}.\n`;
  return `Denied ${str(a.approval_id)} (${str(a.summary)}); the same call is refused until ${str(a.expires_at)}.\n`;
}
