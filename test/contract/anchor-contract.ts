// The audit anchor part of the Store contract (SPEC §13 "Anchors"): every backend runs these.
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/types.js';
import type { ContractBackend } from './store-contract.js';
import { storePerTest } from './store-fixtures.js';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const anchor = (chainUid: string, sequence: number, createdAt = T0 + sequence) => ({
  chainUid,
  sequence,
  hash: sequence.toString(16).padStart(64, '0'),
  jws: `h.p${sequence}.s`,
  createdAt,
});

export function describeAnchorContract(backend: ContractBackend): void {
  describe(`Store contract: ${backend.name} audit anchors`, () => {
    let store: Store;
    const { extra } = storePerTest(backend, (opened) => {
      store = opened;
    });

    it('has no anchor for a chain it never saw', async () => {
      expect(await store.anchors.newest('chn_none')).toBeNull();
      expect(await store.anchors.newestPerChain(0)).toEqual([]);
    });

    it('answers the anchor with the highest sequence of a chain, whatever the order they were put in', async () => {
      for (const seq of [1000, 3000, 2000]) await store.anchors.put(anchor('chn_a', seq));
      await store.anchors.put(anchor('chn_b', 5));
      expect(await store.anchors.newest('chn_a')).toEqual(anchor('chn_a', 3000));
      expect(await store.anchors.newest('chn_b')).toEqual(anchor('chn_b', 5));
    });

    it('keeps the first anchor put for the same chain and sequence', async () => {
      await store.anchors.put(anchor('chn_a', 7));
      await store.anchors.put({ ...anchor('chn_a', 7), jws: 'other' });
      expect((await store.anchors.newest('chn_a'))?.jws).toBe('h.p7.s');
    });

    it('lists the newest anchor of each chain made at or after a time, oldest first', async () => {
      await store.anchors.put(anchor('chn_old', 1, T0));
      await store.anchors.put(anchor('chn_new', 1, T0 + 10));
      await store.anchors.put(anchor('chn_new', 2, T0 + 20));
      await store.anchors.put(anchor('chn_mid', 4, T0 + 15));
      expect((await store.anchors.newestPerChain(T0 + 1)).map((a) => [a.chainUid, a.sequence])).toEqual([
        ['chn_mid', 4],
        ['chn_new', 2],
      ]);
      expect(await store.anchors.newestPerChain(0)).toHaveLength(3);
    });

    if (backend.openPeer !== undefined) it('keeps anchors across close and reopen', async () => {
      await store.anchors.put(anchor('chn_a', 42));
      const peer = await backend.openPeer!();
      extra.push(peer);
      expect((await peer.anchors.newest('chn_a'))?.sequence).toBe(42);
    });
  });
}
