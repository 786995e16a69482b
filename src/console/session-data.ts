// What one session's console page shows, read through the same reads as the control API (the session
// record, ApprovalService.list, the ledger) plus its history: epochs and checkpoints from the store, and
// its recent records from the tail of this replica's audit file.
import { readSessionAuditTail } from '../audit/audit-tail.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { PersonDef } from '../policy/types.js';
import { recentFirst } from './approval-data.js';
import type { ConsoleDeps } from './console-deps.js';
import { AUDIT_TAIL, HISTORY_LIMIT, type AuditView } from './session-sections.js';
import type { SessionPageData } from './session-pages.js';

export async function sessionPageData(deps: ConsoleDeps, person: PersonDef, id: string): Promise<SessionPageData> {
  const session = await deps.store.sessions.get(id);
  if (!session) throw new GatewayError('session_not_found');
  const [epochs, checkpoints, approvals, ledger, audit] = await Promise.all([
    deps.store.sessions.listEpochs(id, HISTORY_LIMIT),
    deps.store.sessions.listCheckpoints(id, HISTORY_LIMIT),
    deps.approvals.list(person, { sessionId: id }),
    deps.store.ledger.list(id, deps.clock.now()),
    auditView(deps, id),
  ]);
  return { session, epochs, checkpoints, approvals, ledger: recentFirst(ledger), audit };
}

/** Never rejects: a file that cannot be read is a note on the page, not a failed page. */
async function auditView(deps: ConsoleDeps, sessionId: string): Promise<AuditView> {
  if (deps.auditFile === undefined) return { kind: 'not_a_file' };
  try {
    return { kind: 'records', tail: await readSessionAuditTail(deps.auditFile, sessionId, AUDIT_TAIL) };
  } catch (err) {
    deps.logger.warn({ err }, 'console could not read the audit file back');
    return { kind: 'unreadable' };
  }
}
