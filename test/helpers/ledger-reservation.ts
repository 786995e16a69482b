// A LedgerReservation over the memory store, with its hook calls and the store writes it made recorded in
// order, for the reservation unit tests (test/unit/ledger-reservation*.test.ts).
import { LedgerReservation } from '../../src/ledger/reservation.js';
import type { LedgerEntry, LedgerStore, ReserveRequest } from '../../src/store/ledger-types.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { call, T0 } from '../contract/ledger-contract.js';
import { session } from '../contract/store-fixtures.js';

/** The clock the reservation reads when it settles (distinct from the reservation time). */
export const SETTLED_AT = T0 + 5_000;

export interface ReservedCall {
  readonly store: MemoryStore;
  readonly reservation: LedgerReservation;
  readonly entry: LedgerEntry;
  /** Hook calls: ['unknown', entryId, reason, httpStatus] or ['error', err]. */
  readonly hooks: unknown[][];
  /** Settling writes the reservation made: [method, entryId, attempt, …]. */
  readonly writes: unknown[][];
}

/** The settling methods of the store, each call recorded before it is passed on. */
function recordingLedger(ledger: LedgerStore, writes: unknown[][]): LedgerStore {
  return Object.assign(Object.create(ledger) as LedgerStore, {
    complete: (...args: Parameters<LedgerStore['complete']>) => {
      writes.push(['complete', args[0], args[1], args[2].now]);
      return ledger.complete(...args);
    },
    markUnknown: (...args: Parameters<LedgerStore['markUnknown']>) => {
      writes.push(['markUnknown', ...args]);
      return ledger.markUnknown(...args);
    },
    release: (...args: Parameters<LedgerStore['release']>) => {
      writes.push(['release', ...args]);
      return ledger.release(...args);
    },
  });
}

/** A call reserved in a fresh memory store (by default under an Idempotency-Key, so a second reserve with
 *  the same key shows what was recorded). */
export async function reservedCall(over: Partial<ReserveRequest> = {}): Promise<ReservedCall> {
  const store = new MemoryStore();
  await store.sessions.create(session());
  const result = await store.ledger.reserve(call({ idempotencyKey: 'key-1', ...over }));
  if (result.kind !== 'forward') throw new Error(`fixture not reserved: ${result.kind}`);
  const hooks: unknown[][] = [];
  const writes: unknown[][] = [];
  const reservation = new LedgerReservation(recordingLedger(store.ledger, writes), new ManualClock(SETTLED_AT), result.entry, result.occurrence, {
    onUnknown: (entry, reason, httpStatus) => void hooks.push(['unknown', entry.entryId, reason, httpStatus]),
    onError: (err) => void hooks.push(['error', err]),
  });
  return { store, reservation, entry: result.entry, hooks, writes };
}

/** What the store holds for the call now: [state, unknownReason, status, updatedAt]. */
export async function stateOf(store: MemoryStore): Promise<unknown[][]> {
  return (await store.ledger.list('ses_a', T0)).map((e) => [e.state, e.unknownReason, e.status, e.updatedAt]);
}

/** A second call with the same key: what it would be answered with. */
export async function reserveAgain(store: MemoryStore): Promise<Awaited<ReturnType<LedgerStore['reserve']>>> {
  return store.ledger.reserve(call({ idempotencyKey: 'key-1' }));
}

/** A forward() that never settles (the call is still at the tool). */
export const pendingForever = (): Promise<never> => new Promise<never>(() => undefined);
