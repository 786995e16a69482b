// The history sections of one session's page: epochs and resumes, checkpoints, and the recent audit records
// of this replica's stream. Every value from the store or the audit file goes through the escaping template.
import type { AuditSummary, AuditTail } from '../audit/audit-tail.js';
import type { CheckpointRecord, EpochRecord } from '../store/types.js';
import { html, type SafeHtml } from './html.js';
import { time } from './layout.js';

/** How many epochs and checkpoints the page lists (the newest). */
export const HISTORY_LIMIT = 50;
/** How far back the audit section looks in this replica's current audit file, and how many records it shows. */
export const AUDIT_TAIL = { maxBytes: 4 * 1024 * 1024, maxRecords: 50 } as const;

/** The audit section's source: records read back, or why there are none to read. */
export type AuditView =
  | { readonly kind: 'records'; readonly tail: AuditTail }
  /** The stream is not a file this process can read back (stdout, or a log injected by an embedding program). */
  | { readonly kind: 'not_a_file' }
  | { readonly kind: 'unreadable' };

const CAUSE: Readonly<Record<EpochRecord['cause'], string>> = {
  create: 'created',
  resume: 'resumed',
  before_history: 'current when epoch history began (earlier epochs were not recorded)',
};

export function epochSection(epochs: readonly EpochRecord[], current: number): SafeHtml {
  const oldest = epochs.at(-1);
  const cut = oldest !== undefined && oldest.epoch > 1 && oldest.cause === 'resume';
  return html`<h2>Epochs and resumes</h2>
<div class="table-wrap"><table id="epochs">
<thead><tr><th scope="col">Epoch</th><th scope="col">Began</th><th scope="col">How</th><th scope="col">Scope granted</th><th scope="col">Agent</th></tr></thead>
<tbody>${epochs.map((e) => html`<tr data-epoch="${e.epoch}"><td>${e.epoch}${e.epoch === current ? ' (current)' : ''}</td><td>${e.startedAt === null ? 'unknown' : time(e.startedAt)}</td><td>${CAUSE[e.cause]}</td><td>${e.scope.length === 0 ? '(none)' : e.scope.join(', ')}</td><td>${e.agentId}</td></tr>`)}</tbody>
</table></div>
${cut ? html`<p class="note">The newest ${HISTORY_LIMIT} epochs are shown; earlier ones are not.</p>` : null}`;
}

export function checkpointSection(checkpoints: readonly CheckpointRecord[]): SafeHtml {
  if (checkpoints.length === 0) return html`<h2>Checkpoints</h2><p>None.</p>`;
  return html`<h2>Checkpoints</h2>
<div class="table-wrap"><table id="checkpoints">
<thead><tr><th scope="col">Sequence</th><th scope="col">Epoch</th><th scope="col">Label</th><th scope="col">State digest</th><th scope="col">At</th></tr></thead>
<tbody>${checkpoints.map((c) => html`<tr data-seq="${c.seq}"><td>${c.seq}</td><td>${c.epoch}</td><td>${c.label ?? '—'}</td><td><code class="digest">${c.stateDigest}</code></td><td>${time(c.createdAt)}</td></tr>`)}</tbody>
</table></div>
<p class="note">Newest first${checkpoints.length >= HISTORY_LIMIT ? html`; only the newest ${HISTORY_LIMIT} are shown` : ''}.</p>`;
}

const MIB = AUDIT_TAIL.maxBytes / (1024 * 1024);
const ACTIVITY: Readonly<Record<number, string>> = { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' };

export function auditSection(view: AuditView): SafeHtml {
  const scopeNote = html`<p class="note" id="audit-scope">From this replica's audit stream only (each replica writes its own):
the newest ${AUDIT_TAIL.maxRecords} records of this session within the last ${MIB} MiB of its current audit file.</p>`;
  if (view.kind === 'not_a_file') {
    return html`<h2>Recent audit records</h2>${scopeNote}<p id="audit-unavailable">Not shown: this gateway writes its audit stream somewhere it cannot read back (standard output, or a log supplied by the program that embeds it).</p>`;
  }
  if (view.kind === 'unreadable') {
    return html`<h2>Recent audit records</h2>${scopeNote}<p id="audit-unavailable" class="error">Not shown: the audit file could not be read just now.</p>`;
  }
  const { records, wholeFile } = view.tail;
  const reach = wholeFile ? 'The whole file was searched.' : `Older records may exist before the last ${MIB} MiB.`;
  if (records.length === 0) return html`<h2>Recent audit records</h2>${scopeNote}<p>None found. ${reach}</p>`;
  return html`<h2>Recent audit records</h2>${scopeNote}
<div class="table-wrap"><table id="audit">
<thead><tr><th scope="col">At</th><th scope="col">Event</th><th scope="col">Activity</th><th scope="col">Status</th><th scope="col">Epoch</th><th scope="col">Actor</th><th scope="col">Tool</th><th scope="col">Call</th></tr></thead>
<tbody>${records.map(auditRow)}</tbody>
</table></div>
<p class="note">Newest first. ${reach}</p>`;
}

function auditRow(r: AuditSummary): SafeHtml {
  const activity = r.activityId === null ? '—' : (ACTIVITY[r.activityId] ?? String(r.activityId));
  const actor = r.actor === null ? '—' : `${r.actor}${r.actorType !== null ? ` (${r.actorType})` : ''}`;
  const call = [r.method, r.path].filter((p) => p !== null).join(' ') + (r.mcpTool !== null ? ` → ${r.mcpTool}` : '');
  return html`<tr><td>${time(r.time)}</td><td>${r.event}</td><td>${activity}</td><td>${r.status}</td><td>${r.epoch ?? '—'}</td><td>${actor}</td><td>${r.tool ?? '—'}</td><td>${call === '' ? '—' : call}</td></tr>`;
}
