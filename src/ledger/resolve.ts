// SPEC §10: an admin resolves a ledger entry whose outcome is unknown — `retry` (the next matching call is
// forwarded once) or `done` (it is answered as done). The store applies the change atomically where the
// entry allows it (store/ledger-rules.ts canResolve); this module says what a refused resolve means.
import type { ActionTrail } from '../audit/audit-draft.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { LedgerEntry, LedgerState } from '../store/ledger-types.js';
import type { Store } from '../store/types.js';

export interface ResolveRequest {
  readonly sessionId: string;
  readonly entryId: string;
  readonly outcome: 'retry' | 'done';
  /** The admin's person id. */
  readonly by: string;
  readonly now: number;
}

export interface ResolvedEntry {
  readonly kind: 'resolved';
  readonly entry: LedgerEntry;
  readonly previous: LedgerState;
}

export async function resolveLedgerEntry(store: Store, request: ResolveRequest, trail: ActionTrail): Promise<ResolvedEntry> {
  const { sessionId, entryId, outcome } = request;
  const session = await store.sessions.get(sessionId);
  if (!session) throw new GatewayError('session_not_found');
  trail.audit.taskId = session.taskId;
  const result = await store.ledger.resolve(sessionId, entryId, outcome, request.by, request.now);
  if (!result.ok) {
    if (!result.current) throw new GatewayError('route_not_found', { detail: 'No such ledger entry in this session' });
    // SPEC §10 resolves unknown outcomes only: a recorded or in-flight call is not the admin's to rewrite.
    throw new GatewayError('invalid_request', {
      detail: `The entry is ${result.current.state}; only an unknown entry (or a retry not yet used) can be resolved`,
      fields: { errors: [{ path: 'outcome', message: `entry state is ${result.current.state}` }], entry_id: result.current.entryId },
    });
  }
  trail.audit.extra.previous_state = result.previous;
  trail.audit.epoch = result.entry.epoch;
  return { kind: 'resolved', entry: result.entry, previous: result.previous };
}
