// Start-up (SPEC §9.4): a session that became closed or revoked has no open approvals. A process that
// stopped between the session's final transition and the expiry of its approvals (lifecycle.changed) left
// some open; they are expired here, each audited as approval.expire, before this process serves a call.
// (They could not have been used meanwhile: consumption is fenced on the session being active.)
import type { AuditLog } from '../audit/types.js';
import type { Store } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import { systemExpireEvent } from './approval-events.js';

export async function recoverApprovals(store: Store, audit: AuditLog, clock: Clock): Promise<number> {
  const now = clock.now();
  const expired = await store.approvals.expireOfEndedSessions(now);
  for (const approval of expired) audit.write(systemExpireEvent(approval, now));
  return expired.length;
}
