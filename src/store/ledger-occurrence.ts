// The occurrence rule of SPEC §10, written once for every backend. The rule is a generator that asks the
// backend's table for what it needs (OccurrenceTable: the backend's primitives); a driver runs it inside
// the backend's one atomic step — synchronously in a SQLite transaction or a memory step
// (runOccurrenceSync), or awaiting each primitive inside a database transaction that holds the session
// row's lock (runOccurrenceAsync). So the rule cannot drift between backends.
//
// Why it is O(1) in the ledger's size (SPEC §10 "Cost does not grow with the ledger", DESIGN rule 16):
// - each entry carries its occurrence: its position among the window's entries with that fingerprint,
//   dense from 1 (a released entry gives its number back and later ones move down, see releaseShift);
// - epochs only grow and a reservation checks the epoch in the same step, so the entries of earlier epochs
//   are a prefix of that sequence. "The k-th forwarded call of earlier epochs" is therefore simply the
//   entry at occurrence k, if its epoch is earlier: one index lookup (session, window, fingerprint, k);
// - k itself comes from a counter per (session, window, epoch, fingerprint), never from counting rows.
import { actionFor } from './ledger-rules.js';
import type { LedgerEntry, ReserveRequest, ReserveResult } from './ledger-types.js';

export interface OccurrenceKey {
  readonly sessionId: string;
  /** Seq of the checkpoint that opened the window (0: none yet). */
  readonly window: number;
  readonly epoch: number;
  readonly fingerprint: string;
}

/** A backend's tables as the rule needs them; `Found` is the backend's own handle on one entry. */
export interface OccurrenceTable<Found> {
  window(sessionId: string): number;
  /** Calls of key.epoch that took an occurrence slot in this window (0 when none). */
  calls(key: OccurrenceKey): number;
  setCalls(key: OccurrenceKey, calls: number): void;
  /** The window's entry with key.fingerprint at this occurrence, by index. */
  at(key: OccurrenceKey, occurrence: number): Found | undefined;
  /** Highest occurrence of key.fingerprint in the window (0 when none), by index. */
  last(key: OccurrenceKey): number;
  /** The entry without its recorded response. */
  view(found: Found): LedgerEntry;
  /** The entry with its recorded response, for a replay. */
  replay(found: Found): LedgerEntry;
  /** An entry an admin marked retry, taken over by this call (in flight again). */
  take(found: Found, r: ReserveRequest): LedgerEntry;
  insert(r: ReserveRequest, window: number, occurrence: number): LedgerEntry;
}

/** The same primitives, each one awaited (a network backend inside its transaction). */
export type AsyncOccurrenceTable<Found> = {
  [K in keyof OccurrenceTable<Found>]: (...args: Parameters<OccurrenceTable<Found>[K]>) => Promise<ReturnType<OccurrenceTable<Found>[K]>>;
};

type Primitive<Found> = keyof OccurrenceTable<Found>;
interface Ask<Found> {
  readonly primitive: Primitive<Found>;
  readonly args: unknown[];
}
type Rule<Found> = Generator<Ask<Found>, ReserveResult, unknown>;

/** One question to the table; the driver sends the answer back in. */
function* ask<Found, K extends Primitive<Found>>(
  primitive: K,
  ...args: Parameters<OccurrenceTable<Found>[K]>
): Generator<Ask<Found>, ReturnType<OccurrenceTable<Found>[K]>, unknown> {
  return (yield { primitive, args }) as ReturnType<OccurrenceTable<Found>[K]>;
}

function* occurrenceRule<Found>(r: ReserveRequest): Rule<Found> {
  const window = yield* ask<Found, 'window'>('window', r.sessionId);
  const key: OccurrenceKey = { sessionId: r.sessionId, window, epoch: r.epoch, fingerprint: r.fingerprint };
  const k = (yield* ask<Found, 'calls'>('calls', key)) + 1;
  const found = yield* ask<Found, 'at'>('at', key, k);
  // SPEC §10: matched only against calls forwarded in earlier epochs; within one epoch nothing is suppressed.
  const entry = found === undefined ? undefined : yield* ask<Found, 'view'>('view', found);
  if (found !== undefined && entry !== undefined && entry.epoch < r.epoch) {
    const action = actionFor(entry.state);
    // The call does not take the slot: the next matching call meets the same entry.
    if (action === 'in_progress' || action === 'unknown') return { kind: action, entry };
    yield* ask<Found, 'setCalls'>('setCalls', key, k);
    if (action === 'replay') return { kind: 'replay', entry: yield* ask<Found, 'replay'>('replay', found), occurrence: k };
    return { kind: 'forward', entry: yield* ask<Found, 'take'>('take', found, r), occurrence: k };
  }
  yield* ask<Found, 'setCalls'>('setCalls', key, k);
  const last = yield* ask<Found, 'last'>('last', key);
  return { kind: 'forward', entry: yield* ask<Found, 'insert'>('insert', r, key.window, last + 1), occurrence: k };
}

function answer<Found>(table: OccurrenceTable<Found> | AsyncOccurrenceTable<Found>, question: Ask<Found>): unknown {
  return (table[question.primitive] as (...args: unknown[]) => unknown).apply(table, question.args);
}

/** Runs the rule against a synchronous table, inside the caller's atomic step. */
export function runOccurrenceSync<Found>(table: OccurrenceTable<Found>, r: ReserveRequest): ReserveResult {
  const rule = occurrenceRule<Found>(r);
  let step = rule.next();
  while (!step.done) step = rule.next(answer(table, step.value));
  return step.value;
}

/** Runs the rule against an asynchronous table, inside the caller's transaction (which must hold the
 *  session row's lock, so concurrent reservations of the session serialise). */
export async function runOccurrenceAsync<Found>(table: AsyncOccurrenceTable<Found>, r: ReserveRequest): Promise<ReserveResult> {
  const rule = occurrenceRule<Found>(r);
  let step = rule.next();
  while (!step.done) step = rule.next(await answer(table, step.value));
  return step.value;
}
