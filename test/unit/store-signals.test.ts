// The change-signal seam between replicas (store/signal-types.ts): the in-process implementation, the strict
// parser for what arrives from outside, the wake-ups of held approval waits and the live-call registry's poke.
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { DecisionWakeups } from '../../src/approvals/decision-wakeups.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { LiveCalls } from '../../src/live/live-calls.js';
import { LocalSignals } from '../../src/store/local-signals.js';
import { parseStoreChange, type StoreChange } from '../../src/store/signal-types.js';
import type { SessionRecord } from '../../src/store/types.js';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

function session(over: Partial<SessionRecord> = {}): SessionRecord {
  return {
    sessionId: 'ses_a', taskId: 't', agentId: 'bot', state: 'active', stateReason: null, epoch: 1, scope: ['billing'],
    originalScope: ['billing'], createdAt: T0, updatedAt: T0, leaseExpiresAt: T0 + 60_000, resumes: 0, metadata: null, ...over,
  };
}

const response = (): ServerResponse => ({ headersSent: false, writableEnded: false, destroy() {}, getHeader: () => undefined }) as unknown as ServerResponse;

describe('LocalSignals', () => {
  it('stamps its origin and tells every listener in order, even after one throws', async () => {
    const errors: unknown[] = [];
    const signals = new LocalSignals('rep_a', (err) => errors.push(err));
    const seen: string[] = [];
    signals.subscribe((c) => seen.push(`1:${c.kind}:${c.origin}`));
    signals.subscribe(() => {
      throw new Error('listener bug');
    });
    signals.subscribe((c) => seen.push(`3:${c.kind}:${c.origin}`));
    await signals.publish({ kind: 'session', sessionId: 'ses_x' });
    expect(seen).toEqual(['1:session:rep_a', '3:session:rep_a']);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('listener bug');
  });

  it('stops telling a listener once it unsubscribed, and everyone once closed', async () => {
    const signals = new LocalSignals('rep_a');
    const seen: StoreChange[] = [];
    const unsubscribe = signals.subscribe((c) => seen.push(c));
    await signals.publish({ kind: 'approval', approvalId: 'apr_1', sessionId: 'ses_x' });
    unsubscribe();
    await signals.publish({ kind: 'approval', approvalId: 'apr_2', sessionId: 'ses_x' });
    expect(seen).toEqual([{ kind: 'approval', approvalId: 'apr_1', sessionId: 'ses_x', origin: 'rep_a' }]);
    signals.subscribe((c) => seen.push(c));
    await signals.close();
    await signals.publish({ kind: 'session', sessionId: 'ses_y' });
    expect(seen).toHaveLength(1);
  });
});

describe('parseStoreChange (signals received from other processes)', () => {
  it('accepts the two notice shapes exactly', () => {
    expect(parseStoreChange('{"kind":"session","sessionId":"ses_1","origin":"rep_b"}')).toEqual({ kind: 'session', sessionId: 'ses_1', origin: 'rep_b' });
    expect(parseStoreChange('{"kind":"approval","approvalId":"apr_1","sessionId":"ses_1","origin":"rep_b"}')).toEqual({
      kind: 'approval', approvalId: 'apr_1', sessionId: 'ses_1', origin: 'rep_b',
    });
  });

  it.each([
    ['not JSON', '{"kind":'],
    ['an unknown kind', '{"kind":"key","sessionId":"ses_1","origin":"rep_b"}'],
    ['a missing origin', '{"kind":"session","sessionId":"ses_1"}'],
    ['an extra member', '{"kind":"session","sessionId":"ses_1","origin":"rep_b","epoch":3}'],
    ['an id with a space', '{"kind":"session","sessionId":"ses 1","origin":"rep_b"}'],
    ['an over-long id', JSON.stringify({ kind: 'session', sessionId: 's'.repeat(129), origin: 'rep_b' })],
    ['an approval without its session', '{"kind":"approval","approvalId":"apr_1","origin":"rep_b"}'],
    ['a JSON array', '[]'],
  ])('drops %s (null)', (_name, payload) => {
    expect(parseStoreChange(payload)).toBeNull();
  });
});

describe('DecisionWakeups', () => {
  it('ends the wait of that approval at once when it is decided, and only that one', async () => {
    const signals = new LocalSignals('rep_a');
    const wakeups = new DecisionWakeups(signals);
    const order: string[] = [];
    const first = wakeups.sleep('apr_1', 60_000, undefined).then(() => order.push('apr_1'));
    const other = new AbortController();
    const second = wakeups.sleep('apr_2', 60_000, other.signal).then(() => order.push('apr_2'));
    expect(wakeups.size).toBe(2);
    await signals.publish({ kind: 'session', sessionId: 'ses_x' });
    await signals.publish({ kind: 'approval', approvalId: 'apr_1', sessionId: 'ses_x' });
    await first;
    expect(order).toEqual(['apr_1']);
    expect(wakeups.size).toBe(1);
    other.abort();
    await second;
    expect(order).toEqual(['apr_1', 'apr_2']);
    expect(wakeups.size).toBe(0);
    wakeups.close();
  });

  it('wakes every call held on the same approval, from a decision made by another replica', async () => {
    const signals = new LocalSignals('rep_a');
    const wakeups = new DecisionWakeups(signals);
    const waits = [wakeups.sleep('apr_1', 60_000, undefined), wakeups.sleep('apr_1', 60_000, undefined)];
    signals.deliver({ kind: 'approval', approvalId: 'apr_1', sessionId: 'ses_x', origin: 'rep_b' });
    await Promise.all(waits);
    expect(wakeups.size).toBe(0);
  });
});

describe('LiveCalls.poke (a session changed on another replica)', () => {
  function registry(stored: Map<string, SessionRecord>, reads: string[]): LiveCalls {
    return new LiveCalls({
      maxPerSession: 4,
      intervalMs: 60_000, // no periodic round can explain an ended call
      read: async (id) => {
        reads.push(id);
        return stored.get(id) ?? null;
      },
      renew: async () => {},
      onError: (err) => {
        throw err;
      },
    });
  }

  it('re-reads the session at once and ends the calls it no longer accepts', async () => {
    const stored = new Map([['ses_a', session()]]);
    const reads: string[] = [];
    const live = registry(stored, reads);
    const call = live.admit(session(), response());
    stored.set('ses_a', session({ epoch: 2 }));
    live.poke('ses_a');
    const reason = await new Promise<unknown>((resolve) => call.signal.addEventListener('abort', () => resolve(call.signal.reason)));
    expect((reason as GatewayError).code).toBe('session_stale_epoch');
    expect(reads).toEqual(['ses_a']);
  });

  it('reads nothing for a session without calls here', () => {
    const reads: string[] = [];
    registry(new Map(), reads).poke('ses_zzz');
    expect(reads).toEqual([]);
  });

  it('reads once more when a signal arrives during a read (that read may predate the change)', async () => {
    const reads: string[] = [];
    let releaseFirst: () => void = () => {};
    const firstRead = new Promise<void>((resolve) => (releaseFirst = resolve));
    let current = session();
    const live = new LiveCalls({
      maxPerSession: 4,
      intervalMs: 60_000,
      read: async (id) => {
        reads.push(id);
        if (reads.length === 1) {
          const seen = current;
          await firstRead;
          return seen;
        }
        return current;
      },
      renew: async () => {},
      onError: (err) => {
        throw err;
      },
    });
    const call = live.admit(session(), response());
    live.poke('ses_a');
    current = session({ state: 'revoked', stateReason: 'admin' });
    live.poke('ses_a');
    live.poke('ses_a');
    releaseFirst();
    const reason = await new Promise<unknown>((resolve) => call.signal.addEventListener('abort', () => resolve(call.signal.reason)));
    expect((reason as GatewayError).code).toBe('session_revoked');
    expect(reads).toEqual(['ses_a', 'ses_a']);
  });
});
