// The console sign-in session part of the Store contract (DESIGN rules 7 and 10): every backend runs these.
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/types.js';
import type { ContractBackend } from './store-contract.js';
import { storePerTest } from './store-fixtures.js';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const IDLE = 30 * 60_000;
const hash = (n: number): string => n.toString(16).padStart(64, '0');
const fresh = (n: number, over: { personId?: string; createdAt?: number } = {}) => {
  const createdAt = over.createdAt ?? T0;
  return { idHash: hash(n), personId: over.personId ?? 'alice', credentialTag: 'tag-1', createdAt, expiresAt: createdAt + IDLE };
};

export function describeConsoleSessionContract(backend: ContractBackend): void {
  describe(`Store contract: ${backend.name} console sessions`, () => {
    let store: Store;
    const { extra } = storePerTest(backend, (opened) => {
      store = opened;
    });

    it('touches a live session: renews its idle deadline and records when it was last seen', async () => {
      await store.consoleSessions.create(fresh(1));
      expect(await store.consoleSessions.touch(hash(1), T0 + 1000, T0 + 1000 + IDLE)).toEqual({
        idHash: hash(1), personId: 'alice', credentialTag: 'tag-1', createdAt: T0, lastSeenAt: T0 + 1000, expiresAt: T0 + 1000 + IDLE,
      });
      // The renewed deadline holds: a touch after the first deadline but before the second succeeds.
      expect(await store.consoleSessions.touch(hash(1), T0 + IDLE + 10, T0 + 2 * IDLE)).toMatchObject({ lastSeenAt: T0 + IDLE + 10 });
    });

    it('refuses to touch an unknown session or one idle up to its deadline, and a later touch does not revive it', async () => {
      expect(await store.consoleSessions.touch(hash(9), T0, T0 + IDLE)).toBeNull();
      await store.consoleSessions.create(fresh(1));
      expect(await store.consoleSessions.touch(hash(1), T0 + IDLE, T0 + 2 * IDLE)).toBeNull();
      expect(await store.consoleSessions.touch(hash(1), T0 + IDLE + 1, T0 + 2 * IDLE)).toBeNull();
    });

    it('finds a live session without renewing it', async () => {
      await store.consoleSessions.create(fresh(1));
      const expected = { idHash: hash(1), personId: 'alice', credentialTag: 'tag-1', createdAt: T0, lastSeenAt: T0, expiresAt: T0 + IDLE };
      expect(await store.consoleSessions.find(hash(1), T0 + IDLE - 1)).toEqual(expected);
      expect(await store.consoleSessions.find(hash(1), T0 + IDLE)).toBeNull();
      expect(await store.consoleSessions.find(hash(2), T0)).toBeNull();
      expect(await store.consoleSessions.touch(hash(1), T0 + IDLE, T0 + 2 * IDLE)).toBeNull();
    });

    it('deletes a session on sign-out; a deleted session cannot be touched', async () => {
      await store.consoleSessions.create(fresh(1));
      await store.consoleSessions.create(fresh(2, { personId: 'bob' }));
      expect(await store.consoleSessions.delete(hash(1))).toBe(true);
      expect(await store.consoleSessions.delete(hash(1))).toBe(false);
      expect(await store.consoleSessions.touch(hash(1), T0 + 1, T0 + IDLE)).toBeNull();
      expect(await store.consoleSessions.touch(hash(2), T0 + 1, T0 + IDLE)).toMatchObject({ personId: 'bob' });
    });

    it('refuses a second session with the same id hash as a store failure', async () => {
      await store.consoleSessions.create(fresh(1));
      await expect(store.consoleSessions.create(fresh(1, { personId: 'mallory' }))).rejects.toMatchObject({ code: 'store_unavailable' });
      expect(await store.consoleSessions.touch(hash(1), T0 + 1, T0 + IDLE)).toMatchObject({ personId: 'alice' });
    });

    it('purges exactly the sessions whose deadline passed', async () => {
      await store.consoleSessions.create(fresh(1));
      await store.consoleSessions.create(fresh(2, { createdAt: T0 + 5000 }));
      expect(await store.consoleSessions.purgeExpired(T0 + IDLE)).toBe(1);
      expect(await store.consoleSessions.purgeExpired(T0 + IDLE)).toBe(0);
      expect(await store.consoleSessions.touch(hash(2), T0 + IDLE, T0 + 2 * IDLE)).toMatchObject({ idHash: hash(2) });
    });

    if (backend.openPeer !== undefined) it('shares sessions with another Store over the same state (another replica)', async () => {
      await store.consoleSessions.create(fresh(1));
      const peer = await backend.openPeer!();
      extra.push(peer);
      expect(await peer.consoleSessions.touch(hash(1), T0 + 1, T0 + 1 + IDLE)).toMatchObject({ personId: 'alice' });
      expect(await peer.consoleSessions.delete(hash(1))).toBe(true);
      expect(await store.consoleSessions.touch(hash(1), T0 + 2, T0 + 2 + IDLE)).toBeNull();
    });
  });
}
