// Time-driven session transitions (SPEC §5): a passed lease suspends, a passed max_age closes.
// Both are detected on access (so enforcement never depends on the sweep's timing) and by a periodic
// sweep (so idle sessions change state, and are audited, even when nobody touches them).
//
// Every successful change of a session's state or epoch, whoever made it (resume, suspend, close, revoke,
// lease expiry, max_age), goes through changed(): it tells the listeners at once (the live-call registry
// ends the session's open streams and held calls, SPEC §8) and expires the open approvals of a session that
// became final (SPEC §9.4).
import { SYSTEM_ACTOR } from '../audit/envelope.js';
import { systemExpireEvent } from '../approvals/approval-events.js';
import type { AuditLog } from '../audit/types.js';
import type { PolicySnapshot } from '../policy/types.js';
import { OPEN_STATES, type SessionRecord, type Store, type TransitionRequest } from '../store/types.js';
import type { Clock } from '../util/clock.js';

/** The records of a transition made because time passed (SPEC §5). */
type TimeEvent = 'session.close' | 'session.lease_expired';

/** Told synchronously of every session change made by this process; must not throw. */
export type SessionChangeListener = (session: SessionRecord) => void;

export class SessionLifecycle {
  private readonly listeners: SessionChangeListener[] = [];

  constructor(
    readonly store: Store,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {}

  /** Registered at start (wiring); never per request. */
  onChange(listener: SessionChangeListener): void {
    this.listeners.push(listener);
  }

  /**
   * Call after every successful transition or resume. Listeners first: ending the old worker's streams
   * must not wait for the store. A final session's pending and approved-unconsumed approvals expire
   * (audited approval.expire); a store failure there propagates (the caller fails loudly).
   */
  async changed(session: SessionRecord, requestId?: string): Promise<void> {
    for (const listener of this.listeners) listener(session);
    if (session.state !== 'closed' && session.state !== 'revoked') return;
    const now = this.clock.now();
    const reason = session.state === 'closed' ? 'session_closed' : 'session_revoked';
    for (const approval of await this.store.approvals.expireForSession(session.sessionId, now, reason)) {
      this.audit.write(systemExpireEvent(approval, now, requestId));
    }
  }

  /** The session as it stands once its time limits are applied (writing the transition if one is due). */
  async enforceTimeLimits(session: SessionRecord, policy: PolicySnapshot, requestId?: string): Promise<SessionRecord> {
    const now = this.clock.now();
    const final = session.state === 'closed' || session.state === 'revoked';
    if (!final && session.createdAt + policy.sessions.maxAgeMs <= now) {
      return this.expire(session, { from: OPEN_STATES, to: 'closed', reason: 'max_age', now }, 'session.close', requestId);
    }
    if (session.state === 'active' && session.leaseExpiresAt <= now) {
      return this.expire(session, { from: ['active'], to: 'suspended', reason: 'lease_expired', now }, 'session.lease_expired', requestId);
    }
    return session;
  }

  /** A time limit found passed on access: write the transition, record and announce it. */
  private async expire(session: SessionRecord, change: TransitionRequest, event: TimeEvent, requestId: string | undefined): Promise<SessionRecord> {
    const result = await this.store.sessions.transition(session.sessionId, change);
    // A concurrent resume may have renewed the lease in between: report what the store holds now.
    if (!result.ok) return result.current ?? session;
    this.record(event, result.session, change.now, requestId);
    await this.changed(result.session, requestId);
    return result.session;
  }

  /** One sweep over all sessions; returns how many changed. */
  async sweep(policy: PolicySnapshot): Promise<number> {
    const now = this.clock.now();
    const closed = await this.store.sessions.closeAged(now - policy.sessions.maxAgeMs, now);
    const suspended = await this.store.sessions.suspendExpiredLeases(now);
    // Every transition is recorded and announced even if one announcement fails; the first failure is
    // thrown afterwards (the sweep's caller logs it).
    let failure: unknown;
    const announce = async (event: TimeEvent, session: SessionRecord): Promise<void> => {
      this.record(event, session, now);
      await this.changed(session).catch((err: unknown) => (failure ??= err));
    };
    for (const session of closed) await announce('session.close', session);
    for (const session of suspended) await announce('session.lease_expired', session);
    if (failure !== undefined) throw failure;
    return closed.length + suspended.length;
  }

  private record(event: TimeEvent, session: SessionRecord, now: number, requestId?: string): void {
    this.audit.write({
      event,
      time: now,
      ...(requestId ? { requestId } : {}),
      status: 'ok',
      disposition: 'blocked',
      actor: SYSTEM_ACTOR,
      sessionId: session.sessionId,
      epoch: session.epoch,
      taskId: session.taskId,
      extra: { reason: session.stateReason, agent_id: session.agentId },
    });
  }
}
