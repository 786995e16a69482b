// The session history part of the Store contract (the console's session page): one epoch row per create and
// winning resume, written atomically with it, and every checkpoint, newest first and bounded. Every backend
// runs exactly these.
import { describe, expect, it } from 'vitest';
import type { EpochRecord, ResumeUpdate, Store } from '../../src/store/types.js';
import { session, type ContractBackend } from './store-contract.js';
import { storePerTest } from './store-fixtures.js';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

const resumeAt = (expectedEpoch: number, now: number, scope: string[] = ['billing']): ResumeUpdate => ({
  expectedEpoch, scope, now, leaseExpiresAt: now + 60_000, maxResumes: 10,
});

const epoch = (n: number, startedAt: number, cause: EpochRecord['cause'], scope: string[]): EpochRecord => ({
  sessionId: 'ses_a', epoch: n, startedAt, cause, scope, agentId: 'agent-1',
});

export function describeSessionHistoryContract(backend: ContractBackend): void {
  describe(`Store contract: ${backend.name} session history`, () => {
    let store: Store;
    const { extra } = storePerTest(backend, async (opened) => {
      store = opened;
      expect((await store.sessions.create(session())).ok).toBe(true);
    });

    it('writes epoch 1 (create, its time, scope and agent) when the session is created', async () => {
      expect(await store.sessions.listEpochs('ses_a', 50)).toEqual([epoch(1, T0, 'create', ['billing', 'search'])]);
      expect(await store.sessions.listEpochs('ses_missing', 50)).toEqual([]);
    });

    it('writes no epoch row for a create refused because the agent already has the task open', async () => {
      expect((await store.sessions.create(session({ sessionId: 'ses_b' }))).ok).toBe(false);
      expect(await store.sessions.listEpochs('ses_b', 50)).toEqual([]);
    });

    it('adds one row per winning resume, newest first, with the resume time and the scope granted', async () => {
      await store.sessions.resume('ses_a', resumeAt(1, T0 + 1000));
      await store.sessions.resume('ses_a', resumeAt(2, T0 + 2000, []));
      expect(await store.sessions.listEpochs('ses_a', 50)).toEqual([
        epoch(3, T0 + 2000, 'resume', []),
        epoch(2, T0 + 1000, 'resume', ['billing']),
        epoch(1, T0, 'create', ['billing', 'search']),
      ]);
      expect((await store.sessions.listEpochs('ses_a', 2)).map((e) => e.epoch)).toEqual([3, 2]);
      expect(await store.sessions.listEpochs('ses_a', 0)).toEqual([]);
    });

    it('writes no epoch row for a losing resume (stale epoch, final session, resumes exhausted)', async () => {
      expect((await store.sessions.resume('ses_a', resumeAt(7, T0 + 1000))).ok).toBe(false);
      expect((await store.sessions.resume('ses_a', { ...resumeAt(1, T0 + 1000), maxResumes: 0 })).ok).toBe(false);
      await store.sessions.transition('ses_a', { from: ['active'], to: 'revoked', reason: 'test', now: T0 + 1 });
      expect((await store.sessions.resume('ses_a', resumeAt(1, T0 + 1000))).ok).toBe(false);
      expect((await store.sessions.listEpochs('ses_a', 50)).map((e) => e.epoch)).toEqual([1]);
    });

    it('of concurrent resumes with the same expected epoch, writes the one row of the winner only', async () => {
      const times = Array.from({ length: 8 }, (_, i) => T0 + 1000 + i);
      const results = await Promise.all(times.map((now) => store.sessions.resume('ses_a', resumeAt(1, now))));
      const winner = results.findIndex((r) => r.ok);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(await store.sessions.listEpochs('ses_a', 50)).toEqual([
        epoch(2, times[winner]!, 'resume', ['billing']),
        epoch(1, T0, 'create', ['billing', 'search']),
      ]);
    });

    if (backend.openPeer !== undefined) it('writes one row when two Store instances race to resume', async () => {
      const other = await backend.openPeer!();
      extra.push(other);
      const racers = [store, other, store, other];
      const results = await Promise.all(racers.map((s, i) => s.sessions.resume('ses_a', resumeAt(1, T0 + 1000 + i))));
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect((await other.sessions.listEpochs('ses_a', 50)).map((e) => [e.epoch, e.cause])).toEqual([[2, 'resume'], [1, 'create']]);
    });

    it('lists every checkpoint newest first, at most limit, across epochs', async () => {
      const add = (id: string, epochNo: number, at: number) =>
        store.sessions.appendCheckpoint({ checkpointId: id, sessionId: 'ses_a', epoch: epochNo, label: id, state: null, stateDigest: `d-${id}`, createdAt: at });
      await add('c1', 1, T0 + 1);
      await add('c2', 1, T0 + 2);
      await store.sessions.resume('ses_a', resumeAt(1, T0 + 3));
      await add('c3', 2, T0 + 4);
      expect((await store.sessions.listCheckpoints('ses_a', 50)).map((c) => [c.checkpointId, c.seq, c.epoch])).toEqual([
        ['c3', 3, 2], ['c2', 2, 1], ['c1', 1, 1],
      ]);
      expect((await store.sessions.listCheckpoints('ses_a', 2)).map((c) => c.seq)).toEqual([3, 2]);
      expect(await store.sessions.listCheckpoints('ses_a', 50)).toContainEqual(
        { checkpointId: 'c1', sessionId: 'ses_a', seq: 1, epoch: 1, label: 'c1', state: null, stateDigest: 'd-c1', createdAt: T0 + 1 },
      );
      expect(await store.sessions.listCheckpoints('ses_missing', 50)).toEqual([]);
    });
  });
}
