// What a reservation does with the entry it found (SPEC §10), shared by every backend so that they cannot
// drift apart. Pure: the backends run it inside their one atomic step.
import type { LedgerEntry, LedgerState } from './ledger-types.js';

export type FoundAction =
  /** Answer from the entry; the call takes the occurrence slot. */
  | 'replay'
  /** An admin said retry: this call takes the entry over and is forwarded (once). */
  | 'take'
  | 'in_progress'
  | 'unknown';

export function actionFor(state: LedgerState): FoundAction {
  switch (state) {
    case 'completed':
    case 'done':
      return 'replay';
    case 'retry':
      return 'take';
    case 'in_flight':
      return 'in_progress';
    case 'unknown':
      return 'unknown';
  }
}

/** An admin may resolve an unknown entry, or change a retry not yet used into done. */
export function canResolve(entry: LedgerEntry, resolution: 'retry' | 'done'): boolean {
  return entry.state === 'unknown' || (entry.state === 'retry' && resolution === 'done');
}

/** Expired key records count as absent whether or not a purge has run (as used assertion ids do). */
export function isLive(entry: LedgerEntry, now: number): boolean {
  return entry.expiresAt === null || entry.expiresAt > now;
}

/** How often expired key records are purged (folded into a reservation, like used assertion ids). */
export const LEDGER_PURGE_INTERVAL_MS = 60_000;

/** SPEC §10: entry metadata is kept this long after its window closed or its session became final. */
export const DEFAULT_LEDGER_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
