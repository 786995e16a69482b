// The one hook between the audit stream and notifications (SPEC §18): every record written goes through
// `write`, so an event cannot be recorded without being offered to the notifier. A record that could not be
// written (audit outage) notifies nothing: the action it describes was refused.
import type { AnchoredAuditStream } from '../audit/anchors.js';
import type { AuditEvent } from '../audit/types.js';

export function notifyingAudit(inner: AnchoredAuditStream, observe: (record: AuditEvent) => void): AnchoredAuditStream {
  return {
    write(record: AuditEvent): void {
      inner.write(record);
      observe(record);
    },
    close: () => inner.close(),
    isAvailable: () => inner.isAvailable(),
    countRefused: () => inner.countRefused(),
    anchorNow: () => inner.anchorNow(),
    tick: () => inner.tick(),
    flush: () => inner.flush(),
    ...(inner.head ? { head: () => inner.head!() } : {}),
  };
}
