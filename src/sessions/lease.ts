// Lease renewal (SPEC §5): any accepted data-plane call, heartbeat or checkpoint renews lease_expires_at to
// now + lease_ttl. One conditional store write on (session, epoch, active), so a fenced worker can never
// extend the lease of the session that replaced it.
import type { SessionRecord, Store } from '../store/types.js';
import { refuseChanged } from './session-access.js';

export interface LeaseRenewed {
  readonly kind: 'renewed';
  readonly leaseExpiresAt: number;
}

/** 'fenced': the session changed since it was read (resumed, suspended, closed, revoked); nothing written. */
export type LeaseAttempt = LeaseRenewed | { readonly kind: 'fenced' };

/** 'not_due': SPEC §5 allows amortised renewal, and nothing was written. */
export type LeaseRenewal = LeaseRenewed | { readonly kind: 'not_due' };

/** Amortised renewal (SPEC §5): due only when less than half the lease remains (or less than `headroomMs`),
 *  so an ordinary call costs no store write (a durable SQLite write is ~100× a read). */
export function leaseRenewalDue(session: SessionRecord, leaseTtlMs: number, now: number, headroomMs = 0): boolean {
  const remaining = session.leaseExpiresAt - now;
  return remaining < leaseTtlMs / 2 || remaining < headroomMs;
}

/** One conditional renewal; the caller decides what a changed session means for it. */
export async function tryRenewLease(store: Store, session: SessionRecord, leaseTtlMs: number, now: number): Promise<LeaseAttempt> {
  const leaseExpiresAt = now + leaseTtlMs;
  const renewed = await store.sessions.renewLease(session.sessionId, session.epoch, leaseExpiresAt, now);
  return renewed ? { kind: 'renewed', leaseExpiresAt } : { kind: 'fenced' };
}

/** Renews the lease of an admitted session; a session changed since admission is refused as the fence would. */
export async function renewLease(store: Store, session: SessionRecord, leaseTtlMs: number, now: number): Promise<LeaseRenewed> {
  const attempt = await tryRenewLease(store, session, leaseTtlMs, now);
  return attempt.kind === 'renewed' ? attempt : refuseChanged(store, session);
}

/** The data plane's renewal: amortised, and refused like the fence when the session changed. */
export async function renewLeaseIfDue(store: Store, session: SessionRecord, leaseTtlMs: number, now: number): Promise<LeaseRenewal> {
  if (!leaseRenewalDue(session, leaseTtlMs, now)) return { kind: 'not_due' };
  return renewLease(store, session, leaseTtlMs, now);
}
