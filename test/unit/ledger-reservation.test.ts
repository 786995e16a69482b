// LedgerReservation.releaseForHold (SPEC §9 hold × §10): a call waiting for a person gives its reservation
// back, once, and only while it has not been sent; a store that cannot release keeps the reservation, which
// is then settled as usual. Over the memory store, with the contract suite's request and session fixtures.
import { describe, expect, it } from 'vitest';
import { LedgerReservation } from '../../src/ledger/reservation.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { call, T0 } from '../contract/ledger-contract.js';
import { session } from '../contract/store-fixtures.js';

async function reserved(): Promise<{ store: MemoryStore; reservation: LedgerReservation; errors: unknown[] }> {
  const store = new MemoryStore();
  await store.sessions.create(session());
  const result = await store.ledger.reserve(call());
  if (result.kind !== 'forward') throw new Error(`fixture not reserved: ${result.kind}`);
  const errors: unknown[] = [];
  const reservation = new LedgerReservation(store.ledger, new ManualClock(T0), result.entry, result.occurrence, {
    onUnknown: () => errors.push('unknown'),
    onError: (err) => errors.push(err),
  });
  return { store, reservation, errors };
}

describe('LedgerReservation.releaseForHold', () => {
  it('gives the entry back (nothing in flight), once', async () => {
    const { store, reservation, errors } = await reserved();
    expect(await reservation.releaseForHold()).toBe(true);
    expect(await store.ledger.list('ses_a', T0)).toEqual([]);
    expect(await reservation.releaseForHold()).toBe(false);
    await reservation.settleIfOpen();
    expect(errors).toEqual([]);
  });

  it('keeps a reservation whose call was already sent', async () => {
    const { store, reservation } = await reserved();
    await reservation.track(Promise.resolve({ status: 200 } as never)).catch(() => undefined);
    expect(await reservation.releaseForHold()).toBe(false);
    expect((await store.ledger.list('ses_a', T0)).map((e) => e.state)).toEqual(['unknown']);
  });

  it('keeps the reservation when the store cannot release it, and settles it later', async () => {
    const { store, reservation, errors } = await reserved();
    const release = store.ledger.release.bind(store.ledger);
    store.ledger.release = () => Promise.reject(new Error('disk full'));
    expect(await reservation.releaseForHold()).toBe(false);
    expect(errors).toHaveLength(1);
    expect((await store.ledger.list('ses_a', T0)).map((e) => e.state)).toEqual(['in_flight']);
    store.ledger.release = release;
    await reservation.settleIfOpen();
    expect(await store.ledger.list('ses_a', T0)).toEqual([]);
  });
});
