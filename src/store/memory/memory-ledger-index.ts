// The memory ledger's records and the indexes the SQLite schema has (ledger_occurrence, ledger_window,
// ledger_keys, ledger_closed), so that every reservation is a few map lookups here too (DESIGN rule 16).
import type { LedgerEntry } from '../ledger-types.js';

export interface Slot {
  entry: LedgerEntry;
  /** Epoch of the call holding (or that last held) the occurrence slot. */
  attemptEpoch: number;
  attempts: number;
  /** When its window closed or its session became final (SPEC §10 retention clock). */
  closedAt: number | null;
}

export class MemoryLedgerIndex {
  /** Insertion order = ledger order. */
  private readonly slots = new Map<string, Slot>();
  /** `session \0 window \0 fingerprint` → that window's entries with that fingerprint; index = occurrence - 1. */
  private readonly byOccurrence = new Map<string, Slot[]>();
  /** `session \0 window` → the window's entries in ledger order. */
  private readonly byWindow = new Map<string, Set<Slot>>();
  /** `session \0 tool \0 key` → the key record. */
  private readonly byKey = new Map<string, Slot>();
  /** Closed slots in closing order: retention purges from the front. */
  private readonly closedQueue: Slot[] = [];

  get(entryId: string): Slot | undefined {
    return this.slots.get(entryId);
  }

  key(sessionId: string, tool: string, key: string): Slot | undefined {
    return this.byKey.get(keyOf(sessionId, tool, key));
  }

  /** The window's entry with this fingerprint at this occurrence. */
  at(sessionId: string, window: number, fingerprint: string, occurrence: number): Slot | undefined {
    return this.byOccurrence.get(occurrenceKey(sessionId, window, fingerprint))?.[occurrence - 1];
  }

  /** Highest occurrence of this fingerprint in the window (0: none). */
  last(sessionId: string, window: number, fingerprint: string): number {
    return this.byOccurrence.get(occurrenceKey(sessionId, window, fingerprint))?.length ?? 0;
  }

  /** The window's entries in ledger order. */
  window(sessionId: string, window: number): Slot[] {
    return [...(this.byWindow.get(windowKey(sessionId, window)) ?? [])];
  }

  /** The session's key records in ledger order (listings only). */
  keysOf(sessionId: string): Slot[] {
    return [...this.byKey.values()].filter((s) => s.entry.sessionId === sessionId);
  }

  /** Every slot, in ledger order (start-up recovery and listings only). */
  all(): IterableIterator<Slot> {
    return this.slots.values();
  }

  add(entry: LedgerEntry, attemptEpoch: number): void {
    if (this.slots.has(entry.entryId)) throw new Error(`duplicate ledger entry id ${entry.entryId}`);
    const slot: Slot = { entry, attemptEpoch, attempts: 1, closedAt: null };
    this.slots.set(entry.entryId, slot);
    if (entry.kind === 'key') {
      this.byKey.set(keyOf(entry.sessionId, entry.tool, entry.idempotencyKey!), slot);
      return;
    }
    getOrCreate(this.byOccurrence, occurrenceKey(entry.sessionId, entry.checkpointSeq, entry.fingerprint), () => []).push(slot);
    getOrCreate(this.byWindow, windowKey(entry.sessionId, entry.checkpointSeq), () => new Set()).add(slot);
  }

  /** Forgets a slot everywhere; a released replay entry gives its occurrence back (later ones move down). */
  remove(slot: Slot): void {
    const { entry } = slot;
    this.slots.delete(entry.entryId);
    if (entry.kind === 'key') {
      this.byKey.delete(keyOf(entry.sessionId, entry.tool, entry.idempotencyKey!));
      return;
    }
    this.byWindow.get(windowKey(entry.sessionId, entry.checkpointSeq))?.delete(slot);
    const sameCall = this.byOccurrence.get(occurrenceKey(entry.sessionId, entry.checkpointSeq, entry.fingerprint)) ?? [];
    const index = sameCall.indexOf(slot, entry.occurrence - 1);
    if (index < 0) return;
    sameCall.splice(index, 1);
    for (let i = index; i < sameCall.length; i++) {
      const later = sameCall[i]!;
      later.entry = Object.freeze({ ...later.entry, occurrence: i + 1 });
    }
  }

  /** SPEC §10: a window closed (checkpoint, or the session became final): its bodies go now. */
  closeWindow(sessionId: string, window: number, now: number): void {
    for (const slot of this.byWindow.get(windowKey(sessionId, window)) ?? []) {
      if (slot.closedAt !== null) continue;
      slot.closedAt = now;
      const response = slot.entry.response;
      if (response) slot.entry = Object.freeze({ ...slot.entry, response: { ...response, body: null } });
      this.closedQueue.push(slot);
      // A closed window is never matched again (no session leaves a final state): its index can go.
      this.byOccurrence.delete(occurrenceKey(sessionId, window, slot.entry.fingerprint));
    }
  }

  /** Expired key records, and entries closed at or before `closedCutoff` (ledger_retention). */
  purge(isExpiredKey: (slot: Slot) => boolean, closedCutoff: number): void {
    for (const slot of this.byKey.values()) if (isExpiredKey(slot)) this.remove(slot);
    const queue = this.closedQueue;
    while (queue.length > 0 && queue[0]!.closedAt! <= closedCutoff && queue[0]!.entry.state !== 'in_flight') this.remove(queue.shift()!);
  }
}

const windowKey = (sessionId: string, window: number): string => `${sessionId}\u0000${window}`;
const occurrenceKey = (sessionId: string, window: number, fingerprint: string): string => `${sessionId}\u0000${window}\u0000${fingerprint}`;
const keyOf = (sessionId: string, tool: string, key: string): string => `${sessionId}\u0000${tool}\u0000${key}`;

function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = create()));
  return value;
}
