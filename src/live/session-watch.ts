// What the live-call registry asks of the session domain, built once at start: a fresh read of a session
// with its time limits applied (so a max_age close or lease expiry is recorded and fences like any other
// change), and the amortised lease renewal that makes an open stream count as activity (SPEC §5, §8).
import type { PolicySnapshot } from '../policy/types.js';
import type { SessionLifecycle } from '../sessions/lifecycle.js';
import type { SessionRecord, Store } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import type { LiveCallsDeps } from './live-calls.js';

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
      // As the forward stage: a write only when less than half the lease remains (SPEC §5 allows it).
      const now = deps.clock.now();
      const leaseTtl = deps.policy.current().sessions.leaseTtlMs;
      if (session.leaseExpiresAt - now >= leaseTtl / 2) return;
      await deps.store.renewLease(session.sessionId, session.epoch, now + leaseTtl, now);
    },
  };
}
