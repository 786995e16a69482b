// Time-driven session transitions (SPEC §5): a passed lease suspends, a passed max_age closes.
// Both are detected on access (so enforcement never depends on the sweep's timing) and by a periodic
// sweep (so idle sessions change state, and are audited, even when nobody touches them).
import type { AuditLog } from '../audit/types.js';
import type { PolicySnapshot } from '../policy/types.js';
import type { SessionRecord, Store } from '../store/types.js';
import type { Clock } from '../util/clock.js';

export class SessionLifecycle {
  constructor(
    readonly store: Store,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {}

  /** The session as it stands once its time limits are applied (writing the transition if one is due). */
  async enforceTimeLimits(session: SessionRecord, policy: PolicySnapshot, requestId?: string): Promise<SessionRecord> {
    const now = this.clock.now();
    const final = session.state === 'closed' || session.state === 'revoked';
    if (!final && session.createdAt + policy.sessions.maxAgeMs <= now) {
      const result = await this.store.transitionSession(session.sessionId, {
        from: ['active', 'suspended'],
        to: 'closed',
        reason: 'max_age',
        now,
      });
      if (result.ok) this.record('session.close', result.session, now, requestId);
      return result.ok ? result.session : (result.current ?? session);
    }
    if (session.state === 'active' && session.leaseExpiresAt <= now) {
      const result = await this.store.transitionSession(session.sessionId, {
        from: ['active'],
        to: 'suspended',
        reason: 'lease_expired',
        now,
      });
      if (result.ok) this.record('session.lease_expired', result.session, now, requestId);
      // A concurrent resume may have renewed the lease in between: report what the store holds now.
      return result.ok ? result.session : (result.current ?? session);
    }
    return session;
  }

  /** One sweep over all sessions; returns how many changed. */
  async sweep(policy: PolicySnapshot): Promise<number> {
    const now = this.clock.now();
    const closed = await this.store.closeAgedSessions(now - policy.sessions.maxAgeMs, now);
    for (const session of closed) this.record('session.close', session, now);
    const suspended = await this.store.suspendExpiredLeases(now);
    for (const session of suspended) this.record('session.lease_expired', session, now);
    return closed.length + suspended.length;
  }

  private record(event: 'session.close' | 'session.lease_expired', session: SessionRecord, now: number, requestId?: string): void {
    this.audit.write({
      event,
      time: now,
      ...(requestId ? { requestId } : {}),
      status: 'ok',
      disposition: 'blocked',
      actor: { id: 'epochgate', type: 'system' },
      sessionId: session.sessionId,
      epoch: session.epoch,
      taskId: session.taskId,
      extra: { reason: session.stateReason, agent_id: session.agentId },
    });
  }
}
