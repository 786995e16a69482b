// Lease renewal (SPEC §5): any accepted data-plane call, heartbeat or checkpoint renews lease_expires_at to
// now + lease_ttl. One conditional store write on (session, epoch, active), so a fenced worker can never
// extend the lease of the session that replaced it.
import type { SessionRecord, Store } from '../store/types.js';
import { refuseChanged } from './session-access.js';

export interface LeaseRenewed {
  readonly kind: 'renewed';
  readonly leaseExpiresAt: number;
}

/** 'not_due': SPEC §5 allows amortised renewal, and nothing was written. */
export type LeaseRenewal = LeaseRenewed | { readonly kind: 'not_due' };

/** Renews the lease of an admitted session; a session changed since admission is refused as the fence would. */
export async function renewLease(store: Store, session: SessionRecord, leaseTtlMs: number, now: number): Promise<LeaseRenewed> {
  const leaseExpiresAt = now + leaseTtlMs;
  if (!(await store.renewLease(session.sessionId, session.epoch, leaseExpiresAt, now))) await refuseChanged(store, session);
  return { kind: 'renewed', leaseExpiresAt };
}

/** The data plane's renewal: written only when less than half the lease remains (SPEC §5 amortised
 *  renewal), so an ordinary call costs no store write (a durable SQLite write is ~100× a read). */
export async function renewLeaseIfDue(store: Store, session: SessionRecord, leaseTtlMs: number, now: number): Promise<LeaseRenewal> {
  if (session.leaseExpiresAt - now >= leaseTtlMs / 2) return { kind: 'not_due' };
  return renewLease(store, session, leaseTtlMs, now);
}
