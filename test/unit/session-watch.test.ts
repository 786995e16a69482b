// What the live-call registry reads and writes (SPEC §5, §8): a fresh session with time limits applied, and
// the amortised lease renewal that makes an open stream count as activity.
import { describe, expect, it } from 'vitest';
import type { AuditLog } from '../../src/audit/types.js';
import { RENEW_HEADROOM_MS, sessionWatch } from '../../src/live/session-watch.js';
import type { PolicySnapshot } from '../../src/policy/types.js';
import { SessionLifecycle } from '../../src/sessions/lifecycle.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { ManualClock } from '../../src/util/clock.js';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

async function setup(leaseTtlMs: number) {
  const store = new MemoryStore();
  const clock = new ManualClock(T0);
  const audit: AuditLog = { write: () => {}, close: () => {} };
  const policy = { sessions: { leaseTtlMs, maxAgeMs: 3_600_000 } } as unknown as PolicySnapshot;
  const created = await store.sessions.create({
    sessionId: 'ses_a', taskId: 't', agentId: 'bot', state: 'active', stateReason: null, epoch: 1, scope: ['billing'],
    originalScope: ['billing'], createdAt: T0, updatedAt: T0, leaseExpiresAt: T0 + leaseTtlMs, resumes: 0, metadata: null,
  });
  if (!created.ok) throw new Error('fixture');
  const watch = sessionWatch({ store, clock, lifecycle: new SessionLifecycle(store, clock, audit), policy: { current: () => policy } });
  const lease = async () => (await store.sessions.get('ses_a'))!.leaseExpiresAt;
  return { store, clock, watch, lease };
}

describe('session watch (SPEC §5, §8)', () => {
  it('renews only when less than half the lease remains', async () => {
    const { clock, watch, lease } = await setup(60_000);
    clock.advance(29_000);
    await watch.renew((await watch.read('ses_a'))!);
    expect(await lease()).toBe(T0 + 60_000);
    clock.advance(2_000);
    await watch.renew((await watch.read('ses_a'))!);
    expect(await lease()).toBe(clock.now() + 60_000);
  });

  it(`renews a short lease once less than ${RENEW_HEADROOM_MS} ms remain, even with more than half left`, async () => {
    const { clock, watch, lease } = await setup(1_500);
    clock.advance(600); // 900 ms left: more than half, less than the headroom
    await watch.renew((await watch.read('ses_a'))!);
    expect(await lease()).toBe(clock.now() + 1_500);
  });

  it('reads a session past its lease as suspended (the transition is recorded), and a missing one as null', async () => {
    const { clock, watch } = await setup(1_000);
    clock.advance(1_000);
    expect(await watch.read('ses_a')).toMatchObject({ state: 'suspended', stateReason: 'lease_expired' });
    expect(await watch.read('ses_missing')).toBeNull();
  });
});
