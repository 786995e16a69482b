// The occurrence rule of SPEC §10, written once for every backend. Each backend supplies a synchronous view
// of its tables (OccurrenceTable) and runs reserveOccurrence inside its one atomic step (a SQLite
// transaction, one synchronous memory step), so the rule cannot drift between backends.
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

export function reserveOccurrence<Found>(table: OccurrenceTable<Found>, r: ReserveRequest): ReserveResult {
  const key: OccurrenceKey = { sessionId: r.sessionId, window: table.window(r.sessionId), epoch: r.epoch, fingerprint: r.fingerprint };
  const k = table.calls(key) + 1;
  const found = table.at(key, k);
  // SPEC §10: matched only against calls forwarded in earlier epochs; within one epoch nothing is suppressed.
  const earlier = found !== undefined && table.view(found).epoch < r.epoch ? found : undefined;
  if (earlier !== undefined) {
    const entry = table.view(earlier);
    const action = actionFor(entry.state);
    // The call does not take the slot: the next matching call meets the same entry.
    if (action === 'in_progress' || action === 'unknown') return { kind: action, entry };
    table.setCalls(key, k);
    if (action === 'replay') return { kind: 'replay', entry: table.replay(earlier), occurrence: k };
    return { kind: 'forward', entry: table.take(earlier, r), occurrence: k };
  }
  table.setCalls(key, k);
  return { kind: 'forward', entry: table.insert(r, key.window, table.last(key) + 1), occurrence: k };
}
