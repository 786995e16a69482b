// Start-up (SPEC §10): entries a previous process left in flight — it stopped mid-call, so whether the tool
// acted is unknown — become unknown, each audited as ledger.unknown, before this process serves a call.
// Only right because one process owns the store: for SQLite the one-writer lock (store/sqlite/sqlite-lock.ts)
// is taken before this runs, so a live peer's in-flight entries can never be caught here.
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
