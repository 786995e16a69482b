// This process among the replicas sharing a store (ledger/replica-presence.ts): registration, heartbeats
// (and re-registration after a silence another replica may have taken for death), and sweeps that expire
// silent replicas before recovering their in-flight entries.
import { describe, expect, it } from 'vitest';
import { ReplicaPresence } from '../../src/ledger/replica-presence.js';
import type { AuditEvent } from '../../src/audit/types.js';
import type { LedgerEntry } from '../../src/store/ledger-types.js';
import type { ReplicaRecord, ReplicaStore } from '../../src/store/replica-types.js';
import type { Store } from '../../src/store/types.js';
import { ManualClock } from '../../src/util/clock.js';

/** The replicas table as every backend keeps it: a stopped replica's heartbeat changes nothing. */
class FakeReplicas implements ReplicaStore {
  readonly rows = new Map<string, ReplicaRecord>();
  readonly calls: string[] = [];
  async register(replicaId: string, now: number): Promise<void> {
    this.calls.push(`register ${replicaId}@${now}`);
    this.rows.set(replicaId, { replicaId, startedAt: now, heartbeatAt: now, stoppedAt: null });
  }
  async heartbeat(replicaId: string, now: number): Promise<void> {
    this.calls.push(`heartbeat ${replicaId}@${now}`);
    const row = this.rows.get(replicaId);
    if (row && row.stoppedAt === null) this.rows.set(replicaId, { ...row, heartbeatAt: now });
  }
  async stop(replicaId: string, now: number): Promise<void> {
    this.calls.push(`stop ${replicaId}@${now}`);
    const row = this.rows.get(replicaId);
    if (row && row.stoppedAt === null) this.rows.set(replicaId, { ...row, stoppedAt: now });
  }
  async expire(staleAt: number, now: number): Promise<ReplicaRecord[]> {
    this.calls.push(`expire ≤${staleAt}@${now}`);
    const expired: ReplicaRecord[] = [];
    for (const row of this.rows.values()) {
      if (row.stoppedAt !== null || row.heartbeatAt > staleAt) continue;
      const stopped = { ...row, stoppedAt: now };
      this.rows.set(row.replicaId, stopped);
      expired.push(stopped);
    }
    return expired;
  }
  async list(): Promise<ReplicaRecord[]> {
    return [...this.rows.values()];
  }
}

function setup(options: { timeoutMs?: number; unknown?: LedgerEntry[] } = {}) {
  const clock = new ManualClock(1_000_000);
  const replicas = new FakeReplicas();
  const written: AuditEvent[] = [];
  const ledger = {
    recoverInFlight: async (now: number) => {
      replicas.calls.push(`recover@${now}`);
      return options.unknown?.splice(0) ?? [];
    },
  };
  const presence = new ReplicaPresence({
    store: { replicas, ledger } as unknown as Store,
    audit: { write: (event: AuditEvent) => void written.push(event), close: () => {} },
    clock,
    replicaId: 'rep_me',
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  return { clock, replicas, written, presence };
}

const entry = { entryId: 'led_1', sessionId: 'ses_1', tool: 'billing', method: 'POST', path: '/transfers', occurrence: 1, epoch: 1 } as unknown as LedgerEntry;

describe('ReplicaPresence', () => {
  it('heartbeats every third of the timeout, at most every 5 s', () => {
    expect(setup({ timeoutMs: 30_000 }).presence.heartbeatMs).toBe(5000);
    expect(setup({ timeoutMs: 3000 }).presence.heartbeatMs).toBe(1000);
  });

  it('registers at start, then expires silent replicas before it recovers their in-flight entries (audited)', async () => {
    const { replicas, written, presence } = setup({ unknown: [entry] });
    await replicas.register('rep_dead', 1_000_000 - 30_000);
    await replicas.register('rep_alive', 1_000_000 - 29_999);
    expect(await presence.start()).toBe(1);
    expect(replicas.calls.slice(2)).toEqual(['register rep_me@1000000', 'expire ≤970000@1000000', 'recover@1000000']);
    expect(replicas.rows.get('rep_dead')!.stoppedAt).toBe(1_000_000);
    expect(replicas.rows.get('rep_alive')!.stoppedAt).toBeNull();
    expect(written.map((e) => [e.event, e.sessionId, (e.extra as Record<string, unknown>).reason])).toEqual([['ledger.unknown', 'ses_1', 'gateway_restart']]);
  });

  it('heartbeats from its sweep when due, and re-registers after a silence another replica may have taken for death', async () => {
    const { clock, replicas, presence } = setup({ timeoutMs: 30_000 });
    await presence.start();
    clock.advance(4999);
    await presence.sweep();
    expect(replicas.calls.filter((c) => c.startsWith('heartbeat'))).toEqual([]);
    clock.advance(1);
    await presence.sweep();
    expect(replicas.calls.filter((c) => !c.startsWith('expire') && !c.startsWith('recover')).at(-1)).toBe('heartbeat rep_me@1005000');
    // Silent for 25 s (a database outage): another replica may have marked this one stopped meanwhile.
    clock.advance(25_000);
    await replicas.expire(clock.now() - 20_000, clock.now());
    expect(replicas.rows.get('rep_me')!.stoppedAt).not.toBeNull();
    await presence.sweep();
    expect(replicas.calls.filter((c) => !c.startsWith('expire') && !c.startsWith('recover')).at(-1)).toBe('register rep_me@1030000');
    expect(replicas.rows.get('rep_me')).toMatchObject({ stoppedAt: null, heartbeatAt: 1_030_000 });
  });

  it('sweeps idempotently: a second sweep finds nothing more to stop', async () => {
    const { clock, replicas, presence } = setup();
    await presence.start();
    await replicas.register('rep_other', clock.now());
    clock.advance(30_001);
    await presence.sweep();
    expect(replicas.rows.get('rep_other')!.stoppedAt).toBe(clock.now());
    const before = [...replicas.rows.values()];
    await presence.sweep();
    expect([...replicas.rows.values()]).toEqual(before);
    expect(replicas.rows.get('rep_me')!.stoppedAt).toBeNull();
  });

  it('marks itself stopped on a graceful stop', async () => {
    const { clock, replicas, presence } = setup();
    await presence.start();
    clock.advance(10);
    await presence.stop();
    expect(replicas.rows.get('rep_me')!.stoppedAt).toBe(1_000_010);
  });
});
