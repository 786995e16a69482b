// The inbox and the approval page. Everything an agent controls (path, query, body, arguments, task id,
// metadata, MCP tool name) is interpolated as text through the escaping template.
import type { ApprovalRecord } from '../store/approval-types.js';
import type { LedgerEntry } from '../store/ledger-types.js';
import type { SignedIn } from './console-auth.js';
import { actionLine, type ApprovalPageData, type InboxItem } from './approval-data.js';
import { bodyPreview } from './body-preview.js';
import { html, type SafeHtml } from './html.js';
import { csrfField, facts, isAdmin, layout, time } from './layout.js';

export const approvalHref = (id: string): string => `/console/approvals/${encodeURIComponent(id)}`;

export function inboxPage(signedIn: SignedIn, items: readonly InboxItem[], decides: boolean): SafeHtml {
  return layout(
    { title: 'Inbox', signedIn, pageId: 'inbox' },
    html`<h1>Inbox</h1>
<p>Pending approvals you may decide. This list updates by itself as calls arrive and as others decide.</p>
${decides ? null : html`<p class="note">You hold no approver role of any rule in the current policy, so there is nothing for you to decide.</p>`}
<p id="live-status" class="note" role="status" aria-live="polite">${items.length} pending</p>
<div class="table-wrap">
<table id="inbox">
<caption class="sr-only">Pending approvals</caption>
<thead><tr><th scope="col">Action</th><th scope="col">Agent</th><th scope="col">Rule</th><th scope="col">Asked at</th><th scope="col">Expires at</th></tr></thead>
<tbody>${items.map(inboxRow)}</tbody>
</table>
</div>`,
  );
}

function inboxRow(item: InboxItem): SafeHtml {
  return html`<tr data-approval-id="${item.approval_id}"><td><a href="${approvalHref(item.approval_id)}">${item.summary}</a></td><td>${item.agent_id}</td><td>${item.rule_id}</td><td>${item.created_at}</td><td>${item.expires_at}</td></tr>`;
}

export function approvalPage(signedIn: SignedIn, data: ApprovalPageData): SafeHtml {
  const { approval } = data;
  return layout(
    { title: `Approval ${approval.approvalId}`, signedIn, pageId: 'approval' },
    html`<h1>Approval <code>${approval.approvalId}</code> <span class="state state-${approval.state}" id="approval-state">${approval.state}</span></h1>
<section aria-labelledby="what"><h2 id="what">What the agent asked for</h2>
${whatFacts(data, isAdmin(signedIn.person))}
${data.session?.metadata ? html`<h3>Session metadata</h3><pre class="json" id="metadata">${JSON.stringify(data.session.metadata, null, 2)}</pre>` : null}
${bodySection(approval)}
</section>
<section aria-labelledby="outcome"><h2 id="outcome">Decision and re-validation</h2>
${facts([['Decided by', approval.decidedBy], ['Decided at', time(approval.decidedAt)], ['Comment', approval.comment], ['Used at', time(approval.consumedAt)], ['Used in epoch', approval.consumedEpoch]])}
<p id="revalidation">${revalidation(approval)}</p>
${decisionForm(signedIn, data)}
</section>
<section aria-labelledby="others"><h2 id="others">Other approvals of this session</h2>${siblingList(data.siblings)}</section>
<section aria-labelledby="calls"><h2 id="calls">Recent calls of this session</h2>${callTable(data.calls)}</section>`,
  );
}

/** Who asked for what, where and when: every agent-controlled value goes in as text. */
function whatFacts({ approval, session }: ApprovalPageData, admin: boolean): SafeHtml {
  const sessionCell = admin ? html`<a href="/console/sessions/${encodeURIComponent(approval.sessionId)}">${approval.sessionId}</a>` : approval.sessionId;
  const { query } = approval.action;
  return facts([
    ['Action', actionLine(approval)],
    ['Agent', approval.agentId],
    ['Session', sessionCell],
    ['Task', session?.taskId ?? null],
    ['Epoch', session ? html`${session.epoch} now (asked in epoch ${approval.requestedEpoch})` : approval.requestedEpoch],
    ['Tool', approval.action.tool],
    ['Method', approval.action.method],
    ['Path', approval.action.path],
    ['Query', query === '' ? null : html`<code>${query}</code><br>decoded: ${decodedQuery(query)}`],
    ['MCP tool', approval.action.mcpTool],
    ['Rule', approval.ruleId],
    ['Approver roles', approval.approverRoles.join(', ')],
    ['Asked at', time(approval.createdAt)],
    ['Expires at', time(approval.expiresAt)],
    ['Action digest', html`<code class="digest">${approval.digest}</code>`],
  ]);
}

/** The query's parameters percent-decoded for reading ("name = value; …"); the raw query is shown beside it. */
export function decodedQuery(query: string): string {
  return [...new URLSearchParams(query)].map(([name, value]) => `${name} = ${value}`).join('; ');
}

function bodySection(approval: ApprovalRecord): SafeHtml {
  const preview = bodyPreview(approval);
  if (preview === null) return html`<p>The call carried no body.</p>`;
  const size = html`${preview.size} bytes${preview.truncated ? ', preview cut at 8 KiB' : ''}, SHA-256 <code class="digest">${preview.sha256 ?? '—'}</code>`;
  return html`${preview.mcpArguments !== null ? html`<h3>Arguments</h3><pre class="json" id="arguments">${preview.mcpArguments}</pre>` : null}
<h3>Body preview (${preview.format === 'json' ? 'JSON' : preview.format})</h3>
<p class="note">${size}</p>
<pre class="json" id="body-preview">${preview.text}</pre>`;
}

/** What the gateway did, or will do, when a call tries to use this approval (SPEC-level re-validation). */
export function revalidation(approval: ApprovalRecord): string {
  const by = approval.decidedBy ?? 'nobody';
  switch (approval.state) {
    case 'pending':
      return 'Waiting for a decision. An approval lets through only a call with exactly this action digest, and only while the approver still holds an approver role of the rule.';
    case 'approved':
      return `Approved by ${by}, not used yet. When the agent repeats exactly this call, the gateway checks again that the session is active, the policy still asks for this approval and ${by} still holds an approver role of the rule; then it uses the approval once.`;
    case 'consumed':
      return `Used: a call with exactly this action passed re-validation in epoch ${approval.consumedEpoch ?? '?'} and went to the tool.`;
    case 'denied':
      return `Denied by ${by}. Calls with exactly this action are refused with approval_denied until the denial expires.`;
    case 'expired':
      return expiredText(approval);
  }
}

function expiredText(approval: ApprovalRecord): string {
  switch (approval.expireReason) {
    case 'approver_revoked':
      return `Expired when a call tried to use it: ${approval.decidedBy ?? 'the approver'} no longer held an approver role of the rule under the current policy, so the call was not let through.`;
    case 'session_closed':
      return 'Expired because the session was closed before the approval was used.';
    case 'session_revoked':
      return 'Expired because an administrator revoked the session before the approval was used.';
    default:
      return 'Expired: its time limit passed before it was decided or used.';
  }
}

function decisionForm(signedIn: SignedIn, data: ApprovalPageData): SafeHtml | null {
  if (data.approval.state !== 'pending') return null;
  if (!data.mayDecide) return html`<p class="note" id="no-decision">You may read this approval but not decide it: deciding needs an approver role of rule ${data.approval.ruleId}.</p>`;
  const base = approvalHref(data.approval.approvalId);
  return html`<form method="post" action="${base}/approve" class="stack" id="decision">
${csrfField(signedIn.csrf)}
<label for="comment">Comment (optional)</label>
<textarea id="comment" name="comment" maxlength="1000" rows="3"></textarea>
<div class="buttons">
<button type="submit" id="approve" class="approve">Approve</button>
<button type="submit" id="deny" class="deny" formaction="${base}/deny">Deny</button>
</div>
</form>`;
}

function siblingList(siblings: readonly ApprovalRecord[]): SafeHtml {
  if (siblings.length === 0) return html`<p>None.</p>`;
  return html`<ul id="siblings">${siblings.map((a) => html`<li><a href="${approvalHref(a.approvalId)}">${actionLine(a)}</a> — ${a.state}, asked ${time(a.createdAt)}</li>`)}</ul>`;
}

export function callTable(calls: readonly LedgerEntry[]): SafeHtml {
  if (calls.length === 0) return html`<p>No side-effecting calls recorded.</p>`;
  return html`<div class="table-wrap"><table>
<thead><tr><th scope="col">At</th><th scope="col">Call</th><th scope="col">Epoch</th><th scope="col">State</th><th scope="col">Status</th></tr></thead>
<tbody>${calls.map((e) => html`<tr><td>${time(e.createdAt)}</td><td>${e.method} ${e.tool} ${e.path}${e.mcpTool !== null ? ` → ${e.mcpTool}` : ''}</td><td>${e.epoch}</td><td>${e.state}</td><td>${e.status ?? '—'}</td></tr>`)}</tbody>
</table></div>`;
}
