// The occurrence rule (SPEC §10) is written once and run by two drivers: synchronously inside a SQLite or
// memory step, and awaiting each primitive inside a database transaction. Both must take exactly the same
// decisions and make exactly the same table changes for any sequence of calls.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  runOccurrenceAsync,
  runOccurrenceSync,
  type AsyncOccurrenceTable,
  type OccurrenceKey,
  type OccurrenceTable,
} from '../../src/store/ledger-occurrence.js';
import type { LedgerEntry, LedgerState, ReserveRequest } from '../../src/store/ledger-types.js';

/** A minimal in-memory table: one window, entries by (fingerprint, occurrence), counters by (epoch, fingerprint). */
function table(): OccurrenceTable<LedgerEntry> & { entries: LedgerEntry[]; log: string[] } {
  const entries: LedgerEntry[] = [];
  const calls = new Map<string, number>();
  const log: string[] = [];
  const counter = (k: OccurrenceKey) => `${k.epoch}/${k.fingerprint}`;
  return {
    entries,
    log,
    window: () => 0,
    calls: (k) => calls.get(counter(k)) ?? 0,
    setCalls: (k, n) => void (calls.set(counter(k), n), log.push(`set ${counter(k)}=${n}`)),
    at: (k, n) => entries.find((e) => e.fingerprint === k.fingerprint && e.occurrence === n),
    last: (k) => entries.filter((e) => e.fingerprint === k.fingerprint).length,
    view: (e) => e,
    replay: (e) => e,
    take: (e, r) => {
      const taken = { ...e, state: 'in_flight' as const, attempt: r.attempt, replicaId: r.replicaId };
      entries[entries.indexOf(e)] = taken;
      log.push(`take ${e.entryId}`);
      return taken;
    },
    insert: (r, window, occurrence) => {
      const entry = { entryId: r.newEntryId, sessionId: r.sessionId, fingerprint: r.fingerprint, epoch: r.epoch, checkpointSeq: window, occurrence, state: 'in_flight' } as LedgerEntry;
      entries.push(entry);
      log.push(`insert ${entry.entryId}@${occurrence}`);
      return entry;
    },
  };
}

function asAsync<F>(sync: OccurrenceTable<F>): AsyncOccurrenceTable<F> {
  const wrap = <A extends unknown[], R>(f: (...a: A) => R) => async (...a: A): Promise<R> => {
    await Promise.resolve();
    return f(...a);
  };
  return {
    window: wrap(sync.window), calls: wrap(sync.calls), setCalls: wrap(sync.setCalls), at: wrap(sync.at), last: wrap(sync.last),
    view: wrap(sync.view), replay: wrap(sync.replay), take: wrap(sync.take), insert: wrap(sync.insert),
  };
}

const step = fc.record({
  epoch: fc.integer({ min: 1, max: 3 }),
  fingerprint: fc.constantFrom('fp-A', 'fp-B'),
  settle: fc.constantFrom<LedgerState>('completed', 'unknown', 'in_flight', 'retry'),
});

describe('occurrence rule drivers', () => {
  it('decide and write the same for any sequence of calls, synchronously and awaited', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
        const sorted = [...steps].sort((a, b) => a.epoch - b.epoch); // epochs only grow
        const sync = table();
        const async_ = table();
        const asyncView = asAsync(async_);
        for (const [i, s] of sorted.entries()) {
          const r = { sessionId: 'ses_a', epoch: s.epoch, fingerprint: s.fingerprint, attempt: `req_${i}`, replicaId: 'rep_a', newEntryId: `led_${i}` } as ReserveRequest;
          const a = runOccurrenceSync(sync, r);
          const b = await runOccurrenceAsync(asyncView, r);
          expect(b).toEqual(a);
          for (const t of [sync, async_]) {
            const last = t.entries.at(-1);
            if (a.kind === 'forward' && last) t.entries[t.entries.indexOf(last)] = { ...last, state: s.settle };
          }
        }
        expect(async_.log).toEqual(sync.log);
      }),
      { numRuns: 200 },
    );
  });

  it('replays the k-th call of an earlier epoch and forwards a new one in the same epoch', () => {
    const t = table();
    const r = (epoch: number, i: number) => ({ sessionId: 'ses_a', epoch, fingerprint: 'fp-A', attempt: `req_${i}`, replicaId: 'rep_a', newEntryId: `led_${i}` }) as ReserveRequest;
    expect(runOccurrenceSync(t, r(1, 1))).toMatchObject({ kind: 'forward', occurrence: 1, entry: { entryId: 'led_1' } });
    t.entries[0] = { ...t.entries[0]!, state: 'completed' };
    expect(runOccurrenceSync(t, r(1, 2))).toMatchObject({ kind: 'forward', occurrence: 2, entry: { entryId: 'led_2', occurrence: 2 } });
    expect(runOccurrenceSync(t, r(2, 3))).toMatchObject({ kind: 'replay', occurrence: 1, entry: { entryId: 'led_1' } });
    expect(runOccurrenceSync(t, r(2, 4))).toMatchObject({ kind: 'in_progress', entry: { entryId: 'led_2' } });
  });
});
