// The live-call registry (SPEC §8) without HTTP: slots, fencing by session and epoch, the periodic
// re-check (which sessions it reads, when it renews), shutdown.
import type { ServerResponse } from 'node:http';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { LiveCalls } from '../../src/live/live-calls.js';
import type { SessionRecord } from '../../src/store/types.js';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

function session(over: Partial<SessionRecord> = {}): SessionRecord {
  return {
    sessionId: 'ses_a', taskId: 't', agentId: 'bot', state: 'active', stateReason: null, epoch: 1, scope: ['billing'],
    originalScope: ['billing'], createdAt: T0, updatedAt: T0, leaseExpiresAt: T0 + 60_000, resumes: 0, metadata: null, ...over,
  };
}

/** Enough of a ServerResponse for the registry: headers sent or not, a content type, destroy(). */
function response(over: { headersSent?: boolean; type?: string } = {}): ServerResponse & { destroyed: boolean } {
  const res = {
    headersSent: over.headersSent ?? false,
    writableEnded: false,
    destroyed: false,
    getHeader: (name: string) => (name === 'content-type' ? over.type : undefined),
    destroy() {
      res.destroyed = true;
    },
  };
  return res as unknown as ServerResponse & { destroyed: boolean };
}

describe('live-call registry (SPEC §8)', () => {
  let stored: Map<string, SessionRecord | null>;
  let reads: string[];
  let renewed: string[];
  let live: LiveCalls;

  beforeEach(() => {
    stored = new Map();
    reads = [];
    renewed = [];
    live = new LiveCalls({
      maxPerSession: 2,
      intervalMs: 0, // every tick reads every watched session
      read: async (id) => {
        reads.push(id);
        return stored.get(id) ?? null;
      },
      renew: async (s) => void renewed.push(`${s.sessionId}@${s.epoch}`),
      onError: (err) => {
        throw err;
      },
    });
  });

  it('counts slots per session, marks the call over the limit, and releases each slot exactly once', () => {
    const a = [live.admit(session(), response()), live.admit(session(), response())];
    const over = live.admit(session(), response());
    expect(a.map((c) => c.counted)).toEqual([true, true]);
    expect(over.counted).toBe(false);
    expect(live.limitError()).toMatchObject({ code: 'too_many_requests', status: 429, retryAfterSeconds: 1 });
    expect(live.admit(session({ sessionId: 'ses_b' }), response()).counted).toBe(true);
    over.release();
    expect(live.inflight('ses_a')).toBe(2);
    a[0]!.release();
    a[0]!.release();
    expect(live.inflight('ses_a')).toBe(1);
    expect(live.admit(session(), response()).counted).toBe(true);
    expect(live.admit(session(), response()).counted).toBe(false);
  });

  it('ends the calls a session change no longer accepts, with that refusal, and only those', () => {
    const old = live.admit(session(), response());
    const other = live.admit(session({ sessionId: 'ses_b' }), response());
    live.sessionChanged(session({ epoch: 2 }));
    expect((old.signal.reason as GatewayError).code).toBe('session_stale_epoch');
    expect(other.signal.aborted).toBe(false);
    const current = live.admit(session({ epoch: 2 }), response());
    live.sessionChanged(session({ epoch: 2, state: 'suspended' }));
    expect((current.signal.reason as GatewayError).fields).toMatchObject({ resume_required: true });
    expect(() => current.throwIfEnded()).toThrow(GatewayError);
  });

  it('fences older epochs when a call is admitted at a newer one', () => {
    const old = live.admit(session(), response());
    live.admit(session({ epoch: 3 }), response());
    expect((old.signal.reason as GatewayError).code).toBe('session_stale_epoch');
  });

  it('destroys a streaming response; a forward that follows the signal is left to abort itself before its answer', () => {
    const streaming = response({ headersSent: true, type: 'text/event-stream' });
    const waiting = response();
    const captured = response();
    const calls = [live.admit(session(), streaming), live.admit(session(), waiting), live.admit(session({ sessionId: 'ses_b' }), captured)];
    calls[0]!.setPhase('forwarding', true);
    calls[1]!.setPhase('forwarding', true);
    calls[2]!.setPhase('forwarding', false);
    live.sessionChanged(session({ state: 'revoked' }));
    live.sessionChanged(session({ sessionId: 'ses_b', state: 'closed' }));
    expect([streaming.destroyed, waiting.destroyed, captured.destroyed]).toEqual([true, false, true]);
    expect(calls.every((c) => c.signal.aborted)).toBe(true);
  });

  it('re-reads each watched session once per round, fences what changed elsewhere, and renews only the current epoch', async () => {
    const a = live.admit(session(), response());
    live.admit(session(), response());
    live.admit(session({ sessionId: 'ses_b' }), response());
    const gone = live.admit(session({ sessionId: 'ses_c' }), response());
    stored.set('ses_a', session({ epoch: 2 }));
    stored.set('ses_b', session({ sessionId: 'ses_b' }));
    await live.tick();
    expect(reads.sort()).toEqual(['ses_a', 'ses_b', 'ses_c']);
    expect((a.signal.reason as GatewayError).code).toBe('session_stale_epoch');
    expect((gone.signal.reason as GatewayError).code).toBe('session_unknown');
    expect(renewed).toEqual(['ses_b@1']);
  });

  it('does not read a session whose calls were all admitted within the interval', async () => {
    const slow = new LiveCalls({ maxPerSession: 2, intervalMs: 60_000, read: async (id) => {
        reads.push(id);
        return null;
      }, renew: async () => {}, onError: () => {} });
    slow.admit(session(), response());
    await slow.tick();
    expect(reads).toEqual([]);
  });

  it('on close ends open streams and held calls, and leaves other calls to finish', () => {
    const stream = live.admit(session(), response({ headersSent: true, type: 'text/event-stream' }));
    const held = live.admit(session(), response());
    const plain = live.admit(session({ sessionId: 'ses_b' }), response({ headersSent: true, type: 'application/json' }));
    stream.setPhase('forwarding', true);
    held.setPhase('held');
    plain.setPhase('forwarding', true);
    live.close();
    expect([stream.signal.aborted, held.signal.aborted, plain.signal.aborted]).toEqual([true, true, false]);
    expect(stream.signal.reason).not.toBeInstanceOf(GatewayError);
  });

  it('keeps ending holds that start during the drain, until disposed', async () => {
    live.close();
    const late = live.admit(session(), response());
    late.setPhase('held');
    // Waits on the abort event itself (the test's timeout is the only deadline).
    if (!late.signal.aborted) await new Promise((resolve) => late.signal.addEventListener('abort', resolve, { once: true }));
    expect(late.signal.aborted).toBe(true);
    live.dispose();
  });
});

describe('live-call registry idle wait', () => {
  it('resolves once the last call is released, or after the timeout', async () => {
    const live = new LiveCalls({ maxPerSession: 2, read: async () => null, renew: async () => {}, onError: () => {} });
    await live.idle(10_000); // nothing registered
    const call = live.admit(session(), response());
    let idle = false;
    const waiting = live.idle(10_000).then(() => (idle = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(idle).toBe(false);
    call.release();
    await waiting;
    live.admit(session(), response());
    // The timeout on fake timers: not a millisecond early, and without waiting for real.
    vi.useFakeTimers();
    try {
      let timedOut = false;
      const timeout = live.idle(20).then(() => (timedOut = true));
      await vi.advanceTimersByTimeAsync(19);
      expect(timedOut).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await timeout;
      expect(timedOut).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
