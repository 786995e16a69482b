// The live-call registry (SPEC §8): every in-flight data-plane call, held approval wait and open response
// stream, by session id. It does three things:
// - caps the calls one session has in flight (limits.max_inflight_per_session, 429 too_many_requests);
// - ends a session's calls within 1 s of that session no longer accepting their epoch: at once when this
//   process made the change (sessionChanged, called by SessionLifecycle.changed), and by a periodic re-check
//   that catches changes made by another replica sharing the store (one store read per session that has a
//   call older than one interval; a session whose calls are all younger was read at their admission);
// - renews the lease of a session with long-lived calls (an open stream is activity, SPEC §8), amortised.
// Cost per call is O(1): a map lookup, a set insert and delete, counters. The re-check costs one read per
// watched session per interval, independent of how many calls or streams that session has.
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { GatewayError } from '../errors/gateway-error.js';
import { sessionRefusal } from '../sessions/session-access.js';
import type { SessionRecord } from '../store/types.js';
import { LiveCall } from './live-call.js';

/** Between 250 and 500 ms keeps "ended within 1 s" with room for a slow store read. */
export const DEFAULT_RECHECK_MS = 300;
/** During a shutdown, how often streams and holds that started after close() are ended. */
const SHUTDOWN_SWEEP_MS = 50;

export interface LiveCallsDeps {
  readonly maxPerSession: number;
  /** The session as it stands now (time limits applied), or null when it is gone. */
  readonly read: (sessionId: string) => Promise<SessionRecord | null>;
  /** Renews the lease of an active session if due (amortised); called only while it has current calls. */
  readonly renew: (session: SessionRecord) => Promise<void>;
  /** A failed re-check is logged; the next interval tries again (the calls stay registered). */
  readonly onError: (err: unknown) => void;
  readonly intervalMs?: number;
}

interface SessionCalls {
  readonly calls: Set<LiveCall>;
  /** Calls holding a slot (admitted under the limit). */
  counted: number;
  /** Highest epoch seen for this session: calls of a lower one are stale. */
  epoch: number;
  /** performance.now() of the last store read that covered every call here. */
  checkedAt: number;
}

export class LiveCalls {
  private readonly sessions = new Map<string, SessionCalls>();
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private readonly idleWaiters: (() => void)[] = [];
  /** Sessions with a poke() read under way → whether another signal came meanwhile. */
  private readonly poking = new Map<string, boolean>();

  constructor(private readonly deps: LiveCallsDeps) {
    this.intervalMs = deps.intervalMs ?? DEFAULT_RECHECK_MS;
  }

  /**
   * Registers a call of `session` (just read from the store and admitted by the fence). Never throws: a call
   * over the limit is registered uncounted (so it is fenced like any other) and refused by limitError().
   */
  admit(session: SessionRecord, res: ServerResponse): LiveCall {
    let entry = this.sessions.get(session.sessionId);
    if (entry === undefined) {
      entry = { calls: new Set(), counted: 0, epoch: session.epoch, checkedAt: performance.now() };
      this.sessions.set(session.sessionId, entry);
    } else if (session.epoch > entry.epoch) {
      // A fresher read than any call here was admitted with: the older epochs are fenced off now.
      this.sessionChanged(session);
    }
    // The read that admitted this call vouches for every call left at this epoch.
    if (session.epoch === entry.epoch) entry.checkedAt = performance.now();
    const counted = entry.counted < this.deps.maxPerSession;
    if (counted) entry.counted += 1;
    const call = new LiveCall(session.sessionId, session.epoch, res, counted, (done) => this.release(done));
    entry.calls.add(call);
    return call;
  }

  /** The refusal for a call admitted over the limit (SPEC §8: 429 with Retry-After). */
  limitError(): GatewayError {
    return new GatewayError('too_many_requests', {
      detail: `This session already has ${this.deps.maxPerSession} calls in flight; retry when one has finished`,
    });
  }

  /** Ends every call of the session that it no longer accepts (state or epoch). Synchronous, never throws. */
  sessionChanged(session: SessionRecord): void {
    const entry = this.sessions.get(session.sessionId);
    if (entry === undefined) return;
    entry.epoch = Math.max(entry.epoch, session.epoch);
    for (const call of entry.calls) {
      const refusal = sessionRefusal(session, call.epoch);
      if (refusal) this.end(call, refusal);
    }
  }

  /**
   * Another process says the session changed (a store change signal): re-read it now rather than at the next
   * round, and end what it no longer accepts. Only a hint: a session with no call here costs nothing, and a
   * signal that arrives while that session's read is under way reads it once more afterwards (the read in
   * progress may predate the change).
   */
  poke(sessionId: string): void {
    if (!this.sessions.has(sessionId)) return;
    if (this.poking.has(sessionId)) {
      this.poking.set(sessionId, true);
      return;
    }
    this.poking.set(sessionId, false);
    const run = async (): Promise<void> => {
      do {
        this.poking.set(sessionId, false);
        await this.recheck(sessionId);
      } while (this.poking.get(sessionId) === true);
      this.poking.delete(sessionId);
    };
    void run();
  }

  /** How many calls of the session hold a slot now. */
  inflight(sessionId: string): number {
    return this.sessions.get(sessionId)?.counted ?? 0;
  }

  /** Starts the periodic re-check; the timer is unref()-ed and owns its errors. */
  start(): void {
    this.timer ??= setInterval(() => void this.tick().catch(this.deps.onError), this.intervalMs);
    this.timer.unref();
  }

  /** One re-check round: reads each session with a call older than one interval (in parallel). */
  async tick(): Promise<void> {
    if (this.ticking) return; // a slow store: never pile rounds up
    this.ticking = true;
    try {
      const cutoff = performance.now() - this.intervalMs;
      const due: string[] = [];
      for (const [sessionId, entry] of this.sessions) if (entry.checkedAt <= cutoff) due.push(sessionId);
      await Promise.all(due.map((sessionId) => this.recheck(sessionId)));
    } finally {
      this.ticking = false;
    }
  }

  /**
   * SIGTERM (SPEC §8, §14): open streams end now and held calls stop waiting (they answer approval_required),
   * so idle listeners do not hold the drain; calls that are about to finish are left to finish.
   */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.endListeners();
    // A request that was already on a kept-alive connection may still open a stream or start a hold during
    // the drain: keep ending those until dispose().
    this.timer = setInterval(() => this.endListeners(), SHUTDOWN_SWEEP_MS);
    this.timer.unref();
  }

  /** Stops every timer (the last step of shutdown). */
  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private endListeners(): void {
    const reason = new Error('the gateway is shutting down');
    for (const entry of this.sessions.values()) {
      for (const call of entry.calls) if (call.isHeld || call.isOpenStream) this.end(call, reason);
    }
  }

  /**
   * Resolves once no call is registered (every request was settled: its audit record is written), or after
   * `timeoutMs`. Lets shutdown write gateway.stop and close the audit log after the last tool.call record.
   */
  idle(timeoutMs: number): Promise<void> {
    if (this.sessions.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private async recheck(sessionId: string): Promise<void> {
    const startedAt = performance.now();
    try {
      const session = await this.deps.read(sessionId);
      const entry = this.sessions.get(sessionId);
      if (entry === undefined) return;
      if (session === null) {
        for (const call of entry.calls) this.end(call, new GatewayError('session_unknown', { bearer: true }));
        return;
      }
      this.sessionChanged(session);
      entry.checkedAt = startedAt;
      // Only a call the session still accepts is activity: a fenced worker's stream must not keep the lease.
      if (session.state === 'active' && hasCallAt(entry, session.epoch)) await this.deps.renew(session);
    } catch (err) {
      this.deps.onError(err);
    }
  }

  /** Abort listeners run synchronously inside end(): one that throws must not stop the others (or the
   *  control-plane action that triggered the change). */
  private end(call: LiveCall, reason: Error): void {
    try {
      call.end(reason);
    } catch (err) {
      this.deps.onError(err);
    }
  }

  private release(call: LiveCall): void {
    const entry = this.sessions.get(call.sessionId);
    if (entry === undefined) return;
    entry.calls.delete(call);
    if (call.counted) entry.counted -= 1;
    if (entry.calls.size === 0) this.sessions.delete(call.sessionId);
    if (this.sessions.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }
}

function hasCallAt(entry: SessionCalls, epoch: number): boolean {
  for (const call of entry.calls) if (call.epoch === epoch && !call.signal.aborted) return true;
  return false;
}
