// TEMPORARY until the store seam lands (runOccurrenceAsync from ledger-occurrence.ts replaces it).
import { actionFor } from '../ledger-rules.js';
import type { OccurrenceKey } from '../ledger-occurrence.js';
import type { LedgerEntry, ReserveRequest, ReserveResult } from '../ledger-types.js';

export interface AsyncOccurrenceTable<Found> {
  window(sessionId: string): Promise<number>;
  calls(key: OccurrenceKey): Promise<number>;
  setCalls(key: OccurrenceKey, calls: number): Promise<void>;
  at(key: OccurrenceKey, occurrence: number): Promise<Found | undefined>;
  last(key: OccurrenceKey): Promise<number>;
  view(found: Found): Promise<LedgerEntry>;
  replay(found: Found): Promise<LedgerEntry>;
  take(found: Found, r: ReserveRequest): Promise<LedgerEntry>;
  insert(r: ReserveRequest, window: number, occurrence: number): Promise<LedgerEntry>;
}

export async function runOccurrenceAsync<Found>(table: AsyncOccurrenceTable<Found>, r: ReserveRequest): Promise<ReserveResult> {
  const key: OccurrenceKey = { sessionId: r.sessionId, window: await table.window(r.sessionId), epoch: r.epoch, fingerprint: r.fingerprint };
  const k = (await table.calls(key)) + 1;
  const found = await table.at(key, k);
  const earlier = found !== undefined && (await table.view(found)).epoch < r.epoch ? found : undefined;
  if (earlier !== undefined) {
    const entry = await table.view(earlier);
    const action = actionFor(entry.state);
    if (action === 'in_progress' || action === 'unknown') return { kind: action, entry };
    await table.setCalls(key, k);
    if (action === 'replay') return { kind: 'replay', entry: await table.replay(earlier), occurrence: k };
    return { kind: 'forward', entry: await table.take(earlier, r), occurrence: k };
  }
  await table.setCalls(key, k);
  return { kind: 'forward', entry: await table.insert(r, key.window, (await table.last(key)) + 1), occurrence: k };
}
