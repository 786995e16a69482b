// SPEC §10, §17: entries a stopped replica left in flight — it stopped mid-call, so whether the tool acted
// is unknown — become unknown, each audited as ledger.unknown. The store only touches entries whose replica
// is stopped (replica-presence.ts decides which are), so a live peer's in-flight entries are never caught.
import { SYSTEM_ACTOR } from '../audit/envelope.js';
import type { AuditLog } from '../audit/types.js';
import type { Store } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import { ledgerUnknownEvent } from './ledger-events.js';

export async function recoverLedger(store: Store, audit: AuditLog, clock: Clock): Promise<number> {
  const now = clock.now();
  const recovered = await store.ledger.recoverInFlight(now);
  for (const entry of recovered) {
    audit.write(
      ledgerUnknownEvent(entry, 'gateway_restart', { time: now, actor: SYSTEM_ACTOR }),
    );
  }
  return recovered.length;
}
