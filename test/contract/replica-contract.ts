// The ReplicaStore contract and replica-aware ledger recovery (SPEC §17, §10), run against every backend.
// `exclusive`: the backend admits one process at a time (SQLite's one-writer lock), so registering a
// replica stops every other registration; shared backends (memory, PostgreSQL) leave the others running.
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/types.js';
import { call, T0 } from './ledger-contract.js';
import { session, type ContractBackend } from './store-contract.js';
import { storePerTest } from './store-fixtures.js';

export function describeReplicaContract(backend: ContractBackend, options: { readonly exclusive: boolean }): void {
  describe(`ReplicaStore contract: ${backend.name}`, () => {
    let store: Store;

    storePerTest(backend, async (opened) => {
      store = opened;
      const created = await store.sessions.create(session());
      if (!created.ok) throw new Error('fixture session not created');
    });

    /** Reserves an occurrence-ledger entry forwarded by `replicaId`; returns its id. */
    const inFlight = async (replicaId: string, fingerprint: string): Promise<string> => {
      const r = await store.ledger.reserve(call({ replicaId, fingerprint }));
      if (r.kind !== 'forward') throw new Error(`expected forward, got ${r.kind}`);
      expect(r.entry.replicaId).toBe(replicaId);
      return r.entry.entryId;
    };
    const recoveredIds = async (now: number): Promise<string[]> => (await store.ledger.recoverInFlight(now)).map((e) => e.entryId);

    it('registers, heartbeats and stops a replica; a stopped replica stays stopped', async () => {
      await store.replicas.register('rep_a', T0);
      await store.replicas.heartbeat('rep_a', T0 + 5_000);
      expect(await store.replicas.list()).toEqual([{ replicaId: 'rep_a', startedAt: T0, heartbeatAt: T0 + 5_000, stoppedAt: null }]);
      await store.replicas.stop('rep_a', T0 + 6_000);
      await store.replicas.heartbeat('rep_a', T0 + 7_000);
      await store.replicas.stop('rep_a', T0 + 8_000);
      expect(await store.replicas.list()).toEqual([{ replicaId: 'rep_a', startedAt: T0, heartbeatAt: T0 + 5_000, stoppedAt: T0 + 6_000 }]);
    });

    it('expires exactly the replicas whose heartbeat is at or before the cut-off, once', async () => {
      await store.replicas.register('rep_a', T0);
      if (!options.exclusive) await store.replicas.register('rep_b', T0 + 1);
      const expired = await store.replicas.expire(T0, T0 + 40_000);
      expect(expired).toEqual([{ replicaId: 'rep_a', startedAt: T0, heartbeatAt: T0, stoppedAt: T0 + 40_000 }]);
      expect(await store.replicas.expire(T0, T0 + 41_000)).toEqual([]);
      const running = (await store.replicas.list()).filter((r) => r.stoppedAt === null).map((r) => r.replicaId);
      expect(running).toEqual(options.exclusive ? [] : ['rep_b']);
    });

    it('recovers the in-flight entries of a replica that never registered (written before replicas existed)', async () => {
      const id = await inFlight('', 'fp-legacy');
      expect(await recoveredIds(T0 + 10)).toEqual([id]);
    });

    it('never marks unknown the in-flight entries of a running replica', async () => {
      await store.replicas.register('rep_a', T0);
      await inFlight('rep_a', 'fp-A');
      expect(await recoveredIds(T0 + 10)).toEqual([]);
      expect((await store.ledger.list('ses_a', T0 + 10)).map((e) => e.state)).toEqual(['in_flight']);
    });

    it('recovers a replica’s in-flight entries once it stopped, audited as gateway_restart, and only once', async () => {
      await store.replicas.register('rep_a', T0);
      const id = await inFlight('rep_a', 'fp-A');
      await store.replicas.stop('rep_a', T0 + 20);
      const recovered = await store.ledger.recoverInFlight(T0 + 30);
      expect(recovered.map((e) => [e.entryId, e.state, e.unknownReason, e.replicaId])).toEqual([[id, 'unknown', 'gateway_restart', 'rep_a']]);
      expect(await recoveredIds(T0 + 40)).toEqual([]);
    });

    if (options.exclusive) {
      it('stops every earlier registration when a replica registers (one process per store)', async () => {
        await store.replicas.register('rep_a', T0);
        const id = await inFlight('rep_a', 'fp-A');
        await store.replicas.register('rep_b', T0 + 100);
        expect(await recoveredIds(T0 + 110)).toEqual([id]);
      });
    } else {
      it('leaves other replicas running when one registers, and recovers only the stale one’s entries', async () => {
        await store.replicas.register('rep_a', T0);
        await store.replicas.register('rep_b', T0);
        const a = await inFlight('rep_a', 'fp-A');
        const b = await inFlight('rep_b', 'fp-B');
        await store.replicas.register('rep_c', T0 + 100);
        expect(await recoveredIds(T0 + 110)).toEqual([]);
        await store.replicas.heartbeat('rep_b', T0 + 25_000);
        // At T0 + 30 s with a 20 s timeout: rep_a (last seen T0) and rep_c (T0 + 100) are gone, rep_b (T0 + 25 s) is not.
        await store.replicas.expire(T0 + 10_000, T0 + 30_000);
        expect(await recoveredIds(T0 + 30_001)).toEqual([a]);
        expect((await store.ledger.list('ses_a', T0 + 30_002)).find((e) => e.entryId === b)?.state).toBe('in_flight');
      });
    }
  });
}
