// The published signing key part of the Store contract (SPEC §17 "Signing keys"): every backend runs these.
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/types.js';
import type { ContractBackend } from './store-contract.js';
import { storePerTest } from './store-fixtures.js';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const jwk = (kid: string, x = `x-${kid}`) => ({ kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' });
const key = (kid: string, publishedAt = T0, x?: string) => ({ kid, jwk: jwk(kid, x), publishedAt });

export function describeKeyContract(backend: ContractBackend): void {
  describe(`Store contract: ${backend.name} published signing keys`, () => {
    let store: Store;
    const { extra } = storePerTest(backend, (opened) => {
      store = opened;
    });

    it('publishes a key once and reads it back by kid', async () => {
      expect(await store.keys.publish(key('k1'))).toEqual({ ...key('k1'), retiredAt: null });
      expect(await store.keys.get('k1')).toEqual({ ...key('k1'), retiredAt: null });
      expect(await store.keys.get('k2')).toBeNull();
    });

    it('keeps the first publication of a kid (insert-if-absent)', async () => {
      await store.keys.publish(key('k1', T0, 'first'));
      expect(await store.keys.publish(key('k1', T0 + 50, 'second'))).toEqual({ ...key('k1', T0, 'first'), retiredAt: null });
      expect((await store.keys.get('k1'))?.jwk.x).toBe('first');
    });

    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
      it(`refuses a JWK carrying the private member ${member} and stores nothing`, async () => {
        const bad = { kid: 'k1', jwk: { ...jwk('k1'), [member]: 'secret' }, publishedAt: T0 };
        await expect(store.keys.publish(bad)).rejects.toThrow(/private key material/);
        expect(await store.keys.get('k1')).toBeNull();
      });
    }

    it('refuses a JWK whose kid differs from the published kid', async () => {
      await expect(store.keys.publish({ kid: 'k1', jwk: jwk('k2'), publishedAt: T0 })).rejects.toThrow(TypeError);
      expect(await store.keys.list({ includeRetired: true })).toEqual([]);
    });

    it('lists unretired keys oldest first, and all keys with includeRetired', async () => {
      await store.keys.publish(key('kb', T0 + 10));
      await store.keys.publish(key('kc', T0));
      await store.keys.publish(key('ka', T0 + 10));
      await store.keys.retire('kc', T0 + 20);
      expect((await store.keys.list({ includeRetired: false })).map((k) => k.kid)).toEqual(['ka', 'kb']);
      expect((await store.keys.list({ includeRetired: true })).map((k) => [k.kid, k.retiredAt])).toEqual([
        ['kc', T0 + 20],
        ['ka', null],
        ['kb', null],
      ]);
    });

    it('retires once: a second retire answers the first retired_at', async () => {
      await store.keys.publish(key('k1'));
      expect(await store.keys.retire('k1', T0 + 100)).toEqual({ ...key('k1'), retiredAt: T0 + 100 });
      expect(await store.keys.retire('k1', T0 + 200)).toEqual({ ...key('k1'), retiredAt: T0 + 100 });
      expect((await store.keys.get('k1'))?.retiredAt).toBe(T0 + 100);
    });

    it('answers null when retiring a kid that was never published, and creates nothing', async () => {
      expect(await store.keys.retire('nope', T0)).toBeNull();
      expect(await store.keys.get('nope')).toBeNull();
    });

    it('never un-retires a key by publishing it again', async () => {
      await store.keys.publish(key('k1'));
      await store.keys.retire('k1', T0 + 5);
      expect(await store.keys.publish(key('k1', T0 + 10))).toEqual({ ...key('k1'), retiredAt: T0 + 5 });
      expect(await store.keys.list({ includeRetired: false })).toEqual([]);
    });

    it('does not let a caller change a stored key through what it got back', async () => {
      const input = key('k1');
      const got = await store.keys.publish(input);
      input.jwk.x = 'changed';
      expect(() => {
        (got.jwk as Record<string, string>).x = 'changed';
      }).toThrow(TypeError);
      expect((await store.keys.get('k1'))?.jwk.x).toBe('x-k1');
    });

    if (backend.openPeer !== undefined) it('keeps keys and their retirement across close and reopen', async () => {
      await store.keys.publish(key('k1'));
      await store.keys.retire('k1', T0 + 9);
      const peer = await backend.openPeer!();
      extra.push(peer);
      expect(await peer.keys.get('k1')).toEqual({ ...key('k1'), retiredAt: T0 + 9 });
    });
  });
}
