// What the live-call registry asks of the session domain, built once at start: a fresh read of a session
// with its time limits applied (so a max_age close or lease expiry is recorded and fences like any other
// change), and the amortised lease renewal that makes an open stream count as activity (SPEC §5, §8).
import type { PolicySnapshot } from '../policy/types.js';
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
      const found = await deps.store.getSession(sessionId);
      return found === null ? null : deps.lifecycle.enforceTimeLimits(found, deps.policy.current());
    },
    renew: async (session: SessionRecord) => {
      // As the forward stage: a write only when less than half the lease remains (SPEC §5 allows it), or
      // less than RENEW_HEADROOM_MS, so a short lease_ttl is renewed before the next re-check comes round.
      const now = deps.clock.now();
      const leaseTtl = deps.policy.current().sessions.leaseTtlMs;
      const remaining = session.leaseExpiresAt - now;
      if (remaining >= leaseTtl / 2 && remaining >= RENEW_HEADROOM_MS) return;
      await deps.store.renewLease(session.sessionId, session.epoch, now + leaseTtl, now);
    },
  };
}
