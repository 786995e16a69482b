// The webhook outbox part of the Store contract (SPEC §18 "Notifications"): every backend runs these.
import { describe, expect, it } from 'vitest';
import type { NewDelivery } from '../../src/store/notification-types.js';
import type { Store } from '../../src/store/types.js';
import type { ContractBackend } from './store-contract.js';
import { storePerTest } from './store-fixtures.js';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const DAY = 86_400_000;
const delivery = (id: string, createdAt = T0): NewDelivery => ({
  deliveryId: id,
  event: 'approval.request',
  url: 'https://hooks.example/a',
  payload: `{"delivery_id":"${id}"}`,
  createdAt,
  giveUpAt: createdAt + DAY,
});
const claim = (store: Store, name: string, now = T0, limit = 10, leaseMs = 60_000) =>
  store.notifications.claimDue({ claim: name, now, leaseMs, limit });

export function describeNotificationContract(backend: ContractBackend): void {
  describe(`Store contract: ${backend.name} notification outbox`, () => {
    let store: Store;
    const { extra } = storePerTest(backend, (opened) => {
      store = opened;
    });

    it('enqueues deliveries as pending, due at once, with no attempts', async () => {
      await store.notifications.enqueue([delivery('dlv_a')]);
      expect(await store.notifications.get('dlv_a')).toEqual({
        ...delivery('dlv_a'), state: 'pending', attempts: 0, nextAttemptAt: T0, lastStatus: null, lastError: null, updatedAt: T0,
      });
      expect(await store.notifications.get('dlv_none')).toBeNull();
    });

    it('enqueues all or none: a duplicate id in the batch inserts nothing and throws store_unavailable', async () => {
      await store.notifications.enqueue([delivery('dlv_a')]);
      await expect(store.notifications.enqueue([delivery('dlv_b'), delivery('dlv_a')])).rejects.toMatchObject({ code: 'store_unavailable' });
      expect(await store.notifications.get('dlv_b')).toBeNull();
    });

    it('claims due deliveries oldest first, counts the attempt, and never hands a leased one to another claim', async () => {
      await store.notifications.enqueue([delivery('dlv_b', T0 + 5), delivery('dlv_a', T0), delivery('dlv_later', T0 + 1000)]);
      const first = await claim(store, 'clm_1', T0 + 10);
      expect(first.map((d) => [d.deliveryId, d.attempts, d.updatedAt])).toEqual([['dlv_a', 1, T0 + 10], ['dlv_b', 1, T0 + 10]]);
      expect(await claim(store, 'clm_2', T0 + 20)).toEqual([]);
      // The lease ends at claim time + leaseMs: then another claim may take them again.
      expect((await claim(store, 'clm_3', T0 + 10 + 60_000)).map((d) => [d.deliveryId, d.attempts])).toEqual([
        ['dlv_a', 2], ['dlv_b', 2], ['dlv_later', 1],
      ]);
    });

    it('claims at most limit deliveries', async () => {
      await store.notifications.enqueue([delivery('dlv_a'), delivery('dlv_b'), delivery('dlv_c')]);
      expect((await claim(store, 'clm_1', T0, 2)).map((d) => d.deliveryId)).toEqual(['dlv_a', 'dlv_b']);
      expect((await claim(store, 'clm_2', T0, 2)).map((d) => d.deliveryId)).toEqual(['dlv_c']);
    });

    it('settles only by the claim that holds the lease', async () => {
      await store.notifications.enqueue([delivery('dlv_a')]);
      await claim(store, 'clm_1');
      expect(await store.notifications.settle('dlv_a', 'clm_other', { kind: 'delivered', status: 200, now: T0 + 1 })).toBe(false);
      // The lease ran out and a second claim took it: the first claim can no longer settle.
      await claim(store, 'clm_2', T0 + 60_000);
      expect(await store.notifications.settle('dlv_a', 'clm_1', { kind: 'delivered', status: 200, now: T0 + 60_001 })).toBe(false);
      expect(await store.notifications.settle('dlv_a', 'clm_2', { kind: 'delivered', status: 204, now: T0 + 60_002 })).toBe(true);
      expect(await store.notifications.get('dlv_a')).toMatchObject({ state: 'delivered', attempts: 2, lastStatus: 204, lastError: null, updatedAt: T0 + 60_002 });
      // Settled once: a repeat is refused and nothing is claimed again.
      expect(await store.notifications.settle('dlv_a', 'clm_2', { kind: 'failed', status: null, error: 'x', now: T0 + 60_003 })).toBe(false);
      expect(await claim(store, 'clm_3', T0 + DAY)).toEqual([]);
    });

    it('a retry settles back to pending, unleased, due at its next attempt time', async () => {
      await store.notifications.enqueue([delivery('dlv_a')]);
      await claim(store, 'clm_1');
      const retry = { kind: 'retry', status: 500, error: 'http_500', nextAttemptAt: T0 + 10_000, now: T0 + 1 } as const;
      expect(await store.notifications.settle('dlv_a', 'clm_1', retry)).toBe(true);
      expect(await store.notifications.get('dlv_a')).toMatchObject({ state: 'pending', attempts: 1, nextAttemptAt: T0 + 10_000, lastStatus: 500, lastError: 'http_500' });
      expect(await claim(store, 'clm_2', T0 + 9_999)).toEqual([]);
      expect((await claim(store, 'clm_3', T0 + 10_000)).map((d) => d.attempts)).toEqual([2]);
    });

    it('a failed delivery keeps its last status and error and is never claimed again', async () => {
      await store.notifications.enqueue([delivery('dlv_a')]);
      await claim(store, 'clm_1');
      await store.notifications.settle('dlv_a', 'clm_1', { kind: 'failed', status: null, error: 'timeout', now: T0 + DAY });
      expect(await store.notifications.get('dlv_a')).toMatchObject({ state: 'failed', lastStatus: null, lastError: 'timeout' });
      expect(await claim(store, 'clm_2', T0 + 2 * DAY)).toEqual([]);
    });

    it('lists newest first, filtered by state and limited, and counts by state', async () => {
      await store.notifications.enqueue([delivery('dlv_a', T0), delivery('dlv_b', T0 + 1), delivery('dlv_c', T0 + 2)]);
      await claim(store, 'clm_1', T0 + 2, 1);
      await store.notifications.settle('dlv_a', 'clm_1', { kind: 'delivered', status: 200, now: T0 + 3 });
      expect((await store.notifications.list({})).map((d) => d.deliveryId)).toEqual(['dlv_c', 'dlv_b', 'dlv_a']);
      expect((await store.notifications.list({ limit: 1 })).map((d) => d.deliveryId)).toEqual(['dlv_c']);
      expect((await store.notifications.list({ state: 'delivered' })).map((d) => d.deliveryId)).toEqual(['dlv_a']);
      expect((await store.notifications.list({ state: 'failed' }))).toEqual([]);
      expect(await store.notifications.countByState()).toEqual({ pending: 2, delivered: 1, failed: 0 });
    });

    it('purges settled deliveries older than a time, at most limit at once, never pending ones', async () => {
      await store.notifications.enqueue([delivery('dlv_a'), delivery('dlv_b'), delivery('dlv_c'), delivery('dlv_p')]);
      await claim(store, 'clm_1', T0, 3);
      for (const id of ['dlv_a', 'dlv_b']) await store.notifications.settle(id, 'clm_1', { kind: 'delivered', status: 200, now: T0 + 1 });
      await store.notifications.settle('dlv_c', 'clm_1', { kind: 'failed', status: 410, error: 'http_410', now: T0 + 5 });
      expect(await store.notifications.purge(T0 + 5, 1)).toBe(1);
      expect(await store.notifications.purge(T0 + 5, 10)).toBe(1);
      expect((await store.notifications.list({})).map((d) => d.deliveryId).sort()).toEqual(['dlv_c', 'dlv_p']);
      expect(await store.notifications.purge(T0 + DAY, 10)).toBe(1);
      expect((await store.notifications.list({})).map((d) => d.deliveryId)).toEqual(['dlv_p']);
    });

    if (backend.openPeer) {
      const openPeer = backend.openPeer;
      it('two stores on the same database never claim the same delivery, and what one enqueued the other delivers', async () => {
        const peer = await openPeer();
        extra.push(peer);
        await store.notifications.enqueue(Array.from({ length: 20 }, (_, i) => delivery(`dlv_${String(i).padStart(2, '0')}`)));
        const [a, b] = await Promise.all([claim(store, 'clm_a', T0, 12), claim(peer, 'clm_b', T0, 12)]);
        const ids = [...a, ...b].map((d) => d.deliveryId);
        expect(ids).toHaveLength(20);
        expect(new Set(ids).size).toBe(20);
        expect(await peer.notifications.settle(a[0]!.deliveryId, 'clm_b', { kind: 'delivered', status: 200, now: T0 })).toBe(false);
        expect(await peer.notifications.settle(b[0]!.deliveryId, 'clm_b', { kind: 'delivered', status: 200, now: T0 })).toBe(true);
        expect((await store.notifications.get(b[0]!.deliveryId))?.state).toBe('delivered');
      });
    }
  });
}
