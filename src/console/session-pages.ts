// The administrators' pages: the session list with filters, one session's history, and its revoke form.
import { SESSION_STATES, type CheckpointRecord, type EpochRecord, type SessionRecord } from '../store/types.js';
import type { ApprovalRecord } from '../store/approval-types.js';
import type { LedgerEntry } from '../store/ledger-types.js';
import type { SignedIn } from './console-auth.js';
import { actionLine } from './approval-data.js';
import { approvalHref, callTable } from './approval-pages.js';
import { html, type SafeHtml } from './html.js';
import { csrfField, facts, layout, time } from './layout.js';
import { auditSection, checkpointSection, epochSection, type AuditView } from './session-sections.js';

export interface SessionFilterInput {
  readonly state?: string | undefined;
  readonly agent_id?: string | undefined;
  readonly task_id?: string | undefined;
}

export const sessionHref = (id: string): string => `/console/sessions/${encodeURIComponent(id)}`;

export function sessionListPage(signedIn: SignedIn, sessions: readonly SessionRecord[], filter: SessionFilterInput): SafeHtml {
  return layout(
    { title: 'Sessions', signedIn, pageId: 'sessions' },
    html`<h1>Sessions</h1>
<form method="get" action="/console/sessions" class="filters">
<label for="f-state">State</label>
<select id="f-state" name="state"><option value="">any</option>${SESSION_STATES.map((s) => html`<option value="${s}"${filter.state === s ? html` selected` : null}>${s}</option>`)}</select>
<label for="f-agent">Agent</label><input id="f-agent" name="agent_id" value="${filter.agent_id ?? ''}">
<label for="f-task">Task</label><input id="f-task" name="task_id" value="${filter.task_id ?? ''}">
<button type="submit">Filter</button>
</form>
<div class="table-wrap"><table id="sessions">
<thead><tr><th scope="col">Session</th><th scope="col">Agent</th><th scope="col">Task</th><th scope="col">State</th><th scope="col">Epoch</th><th scope="col">Updated</th></tr></thead>
<tbody>${sessions.map((s) => html`<tr><td><a href="${sessionHref(s.sessionId)}">${s.sessionId}</a></td><td>${s.agentId}</td><td>${s.taskId}</td><td>${s.state}</td><td>${s.epoch}</td><td>${time(s.updatedAt)}</td></tr>`)}</tbody>
</table></div>
<p class="note">${sessions.length} shown (newest first, at most 1000).</p>`,
  );
}

export interface SessionPageData {
  readonly session: SessionRecord;
  /** Newest first, bounded. */
  readonly epochs: readonly EpochRecord[];
  /** Newest first, bounded. */
  readonly checkpoints: readonly CheckpointRecord[];
  readonly approvals: readonly ApprovalRecord[];
  readonly ledger: readonly LedgerEntry[];
  readonly audit: AuditView;
}

export function sessionPage(signedIn: SignedIn, data: SessionPageData): SafeHtml {
  const { session } = data;
  return layout(
    { title: `Session ${session.sessionId}`, signedIn, pageId: 'session' },
    html`<h1>Session <code>${session.sessionId}</code> <span class="state state-${session.state}" id="session-state">${session.state}</span></h1>
${facts([
  ['Agent', session.agentId],
  ['Task', session.taskId],
  ['State reason', session.stateReason],
  ['Epoch', html`${session.epoch} (${session.resumes} resume${session.resumes === 1 ? '' : 's'}; each resume added one)`],
  ['Scope', session.scope.join(', ')],
  ['Created', time(session.createdAt)],
  ['Updated', time(session.updatedAt)],
  ['Lease until', time(session.leaseExpiresAt)],
])}
${session.metadata ? html`<h2>Metadata</h2><pre class="json" id="metadata">${JSON.stringify(session.metadata, null, 2)}</pre>` : null}
${epochSection(data.epochs, session.epoch)}
${checkpointSection(data.checkpoints)}
<h2>Approvals</h2>
${data.approvals.length === 0 ? html`<p>None.</p>` : html`<ul>${data.approvals.map((a) => html`<li><a href="${approvalHref(a.approvalId)}">${actionLine(a)}</a> — ${a.state}, asked ${time(a.createdAt)}</li>`)}</ul>`}
<h2>Ledger (side-effecting calls)</h2>
${callTable(data.ledger)}
${auditSection(data.audit)}
${revokeForm(signedIn, session)}`,
  );
}

function revokeForm(signedIn: SignedIn, session: SessionRecord): SafeHtml | null {
  if (session.state !== 'active' && session.state !== 'suspended') return null;
  return html`<h2>Revoke</h2>
<form method="post" action="${sessionHref(session.sessionId)}/revoke" class="stack" id="revoke">
${csrfField(signedIn.csrf)}
<label for="reason">Reason</label>
<input id="reason" name="reason" maxlength="500" required>
<button type="submit" class="deny">Revoke this session</button>
</form>`;
}
