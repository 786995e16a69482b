// What the live-call registry asks of the session domain, built once at start: a fresh read of a session
// with its time limits applied (so a max_age close or lease expiry is recorded and fences like any other
// change), and the amortised lease renewal that makes an open stream count as activity (SPEC §5, §8).
import type { PolicySnapshot } from '../policy/types.js';
import { leaseRenewalDue, tryRenewLease } from '../sessions/lease.js';
import type { SessionLifecycle } from '../sessions/lifecycle.js';
import type { SessionRecord, Store } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import type { LiveCallsDeps } from './live-calls.js';

/** Several re-check intervals (live-calls.ts): a lease is renewed while at least one more round can come. */
export const RENEW_HEADROOM_MS = 1000;

export interface SessionWatchDeps {
  readonly store: Store;
  readonly lifecycle: SessionLifecycle;
  readonly policy: { current(): PolicySnapshot };
  readonly clock: Clock;
}

export function sessionWatch(deps: SessionWatchDeps): Pick<LiveCallsDeps, 'read' | 'renew'> {
  return {
    read: async (sessionId) => {
      // A read: a direct store lookup (the time limits, which may write, go through the lifecycle).
      const found = await deps.store.sessions.get(sessionId);
      return found === null ? null : deps.lifecycle.enforceTimeLimits(found, deps.policy.current());
    },
    renew: async (session: SessionRecord) => {
      // As the forward stage, amortised, but also renewed when less than RENEW_HEADROOM_MS remains, so a
      // short lease_ttl is renewed before the next re-check comes round. A 'fenced' attempt needs nothing
      // here: the next re-check reads the changed session and ends its calls (live-calls.ts).
      const now = deps.clock.now();
      const leaseTtl = deps.policy.current().sessions.leaseTtlMs;
      if (leaseRenewalDue(session, leaseTtl, now, RENEW_HEADROOM_MS)) await tryRenewLease(deps.store, session, leaseTtl, now);
    },
  };
}
