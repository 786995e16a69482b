// In-process LedgerStore (tests and demos). Each method does all its work synchronously before returning,
// so the epoch check and the reservation are one step, exactly like one SQLite transaction.
import { actionFor, canResolve, isLive, LEDGER_PURGE_INTERVAL_MS } from '../ledger-rules.js';
import type {
  CompletedOutcome,
  LedgerEntry,
  LedgerStore,
  LedgerSummary,
  ReserveRequest,
  ReserveResult,
  ResolveResult,
  UnknownReason,
} from '../ledger-types.js';
import type { SessionRecord } from '../types.js';

/** What the ledger reads of the memory store it lives in. */
export interface MemoryLedgerHost {
  session(sessionId: string): SessionRecord | undefined;
  /** Seq of the session's latest checkpoint, 0 when none. */
  checkpointSeq(sessionId: string): number;
  /** The memory store's guard: fails closed (store_unavailable) once closed or on any error. */
  guard<T>(operation: () => T): Promise<T>;
}

interface Slot {
  entry: LedgerEntry;
  /** Epoch of the call holding (or that last held) the occurrence slot. */
  attemptEpoch: number;
  attempts: number;
}

export class MemoryLedger implements LedgerStore {
  /** Insertion order = ledger order. */
  private readonly slots = new Map<string, Slot>();
  /** `session \0 window \0 epoch \0 fingerprint` → calls that took an occurrence slot in that epoch. */
  private readonly counters = new Map<string, number>();
  private nextPurge = 0;

  constructor(private readonly host: MemoryLedgerHost) {}

  reserve(r: ReserveRequest): Promise<ReserveResult> {
    return this.guard((): ReserveResult => {
      const session = this.host.session(r.sessionId);
      if (!session || session.state !== 'active' || session.epoch !== r.epoch) return { kind: 'fenced', current: session ?? null };
      return r.idempotencyKey === null ? this.reserveOccurrence(r) : this.reserveKey(r, r.idempotencyKey);
    });
  }

  complete(entryId: string, attempt: string, outcome: CompletedOutcome): Promise<boolean> {
    return this.guard(() => {
      const slot = this.held(entryId, attempt);
      if (!slot) return false;
      const recorded = outcome.body !== null;
      slot.entry = freeze({
        ...slot.entry,
        state: recorded ? 'completed' : 'unknown',
        unknownReason: recorded ? null : 'body_too_large',
        status: outcome.status,
        bodySha256: outcome.bodySha256,
        bodyBytes: outcome.bodyBytes,
        updatedAt: outcome.now,
        response: { status: outcome.status, headers: structuredClone(outcome.headers), body: outcome.body === null ? null : Buffer.from(outcome.body) },
      });
      return true;
    });
  }

  markUnknown(entryId: string, attempt: string, reason: UnknownReason, now: number): Promise<boolean> {
    return this.guard(() => {
      const slot = this.held(entryId, attempt);
      if (!slot) return false;
      slot.entry = freeze({ ...slot.entry, state: 'unknown', unknownReason: reason, updatedAt: now });
      return true;
    });
  }

  release(entryId: string, attempt: string, now: number): Promise<boolean> {
    return this.guard(() => {
      const slot = this.held(entryId, attempt);
      if (!slot) return false;
      const { entry } = slot;
      if (entry.kind === 'replay') {
        const key = counterKey(entry.sessionId, entry.checkpointSeq, slot.attemptEpoch, entry.fingerprint);
        this.counters.set(key, Math.max((this.counters.get(key) ?? 1) - 1, 0));
      }
      if (slot.attempts <= 1) this.slots.delete(entryId);
      else {
        slot.attempts -= 1;
        slot.entry = freeze({ ...entry, state: 'retry', updatedAt: now });
      }
      return true;
    });
  }

  resolve(sessionId: string, entryId: string, resolution: 'retry' | 'done', by: string, now: number): Promise<ResolveResult> {
    return this.guard((): ResolveResult => {
      const slot = this.slots.get(entryId);
      if (!slot || slot.entry.sessionId !== sessionId) return { ok: false, current: null };
      if (!canResolve(slot.entry, resolution)) return { ok: false, current: bare(slot.entry) };
      const previous = slot.entry.state;
      slot.entry = freeze({ ...slot.entry, state: resolution, resolvedBy: by, updatedAt: now });
      return { ok: true, entry: bare(slot.entry), previous };
    });
  }

  list(sessionId: string, now: number): Promise<LedgerEntry[]> {
    return this.guard(() => {
      const window = this.host.checkpointSeq(sessionId);
      return [...this.slots.values()]
        .map((s) => s.entry)
        .filter((e) => e.sessionId === sessionId && (e.kind === 'replay' ? e.checkpointSeq === window : isLive(e, now)))
        .map(bare);
    });
  }

  summary(sessionId: string, recent: number): Promise<LedgerSummary> {
    return this.guard(() => {
      const window = this.host.checkpointSeq(sessionId);
      const entries = [...this.slots.values()]
        .map((s) => s.entry)
        .filter((e) => e.sessionId === sessionId && e.kind === 'replay' && e.checkpointSeq === window);
      return { checkpointSeq: window, count: entries.length, recent: entries.slice(-recent).map(bare) };
    });
  }

  recoverInFlight(now: number): Promise<LedgerEntry[]> {
    return this.guard(() => {
      const recovered: LedgerEntry[] = [];
      for (const slot of this.slots.values()) {
        if (slot.entry.state !== 'in_flight') continue;
        slot.entry = freeze({ ...slot.entry, state: 'unknown', unknownReason: 'gateway_restart', updatedAt: now });
        recovered.push(bare(slot.entry));
      }
      return recovered;
    });
  }

  private reserveOccurrence(r: ReserveRequest): ReserveResult {
    const window = this.host.checkpointSeq(r.sessionId);
    const key = counterKey(r.sessionId, window, r.epoch, r.fingerprint);
    const k = (this.counters.get(key) ?? 0) + 1;
    const sameCall = [...this.slots.values()].filter(
      (s) => s.entry.sessionId === r.sessionId && s.entry.kind === 'replay' && s.entry.checkpointSeq === window && s.entry.fingerprint === r.fingerprint,
    );
    // SPEC §10: matched only against calls forwarded in earlier epochs; within one epoch nothing is suppressed.
    const earlier = sameCall.filter((s) => s.entry.epoch < r.epoch)[k - 1];
    if (earlier) {
      const action = actionFor(earlier.entry.state);
      if (action === 'in_progress' || action === 'unknown') return { kind: action, entry: bare(earlier.entry) };
      this.counters.set(key, k);
      if (action === 'replay') return { kind: 'replay', entry: withCopiedBody(earlier.entry), occurrence: k };
      return { kind: 'forward', entry: this.take(earlier, r), occurrence: k };
    }
    this.counters.set(key, k);
    const entry = this.insert(r, window, sameCall.length + 1, null);
    return { kind: 'forward', entry, occurrence: entry.occurrence };
  }

  private reserveKey(r: ReserveRequest, idempotencyKey: string): ReserveResult {
    this.purgeExpired(r.now);
    let found: Slot | undefined;
    for (const slot of this.slots.values()) {
      const e = slot.entry;
      if (e.kind === 'key' && e.sessionId === r.sessionId && e.tool === r.tool && e.idempotencyKey === idempotencyKey) found = slot;
    }
    if (found && !isLive(found.entry, r.now)) {
      this.slots.delete(found.entry.entryId);
      found = undefined;
    }
    if (!found) {
      const entry = this.insert(r, 0, 1, r.now + r.keyTtlMs);
      return { kind: 'forward', entry, occurrence: 1 };
    }
    if (found.entry.fingerprint !== r.fingerprint) return { kind: 'key_reused', entry: bare(found.entry) };
    const action = actionFor(found.entry.state);
    if (action === 'in_progress' || action === 'unknown') return { kind: action, entry: bare(found.entry) };
    if (action === 'replay') return { kind: 'replay', entry: withCopiedBody(found.entry), occurrence: 1 };
    return { kind: 'forward', entry: this.take(found, r), occurrence: 1 };
  }

  private insert(r: ReserveRequest, window: number, occurrence: number, expiresAt: number | null): LedgerEntry {
    if (this.slots.has(r.newEntryId)) throw new Error(`duplicate ledger entry id ${r.newEntryId}`);
    const entry = freeze({
      entryId: r.newEntryId,
      sessionId: r.sessionId,
      kind: r.idempotencyKey === null ? 'replay' : 'key',
      checkpointSeq: window,
      tool: r.tool,
      idempotencyKey: r.idempotencyKey,
      fingerprint: r.fingerprint,
      occurrence,
      epoch: r.epoch,
      state: 'in_flight',
      unknownReason: null,
      attempt: r.attempt,
      method: r.method,
      path: r.path,
      mcpTool: r.mcpTool,
      status: null,
      bodySha256: null,
      bodyBytes: null,
      createdAt: r.now,
      updatedAt: r.now,
      expiresAt,
      resolvedBy: null,
    });
    this.slots.set(entry.entryId, { entry, attemptEpoch: r.epoch, attempts: 1 });
    return entry;
  }

  private take(slot: Slot, r: ReserveRequest): LedgerEntry {
    slot.attempts += 1;
    slot.attemptEpoch = r.epoch;
    slot.entry = freeze({ ...slot.entry, state: 'in_flight', unknownReason: null, attempt: r.attempt, updatedAt: r.now });
    return bare(slot.entry);
  }

  private held(entryId: string, attempt: string): Slot | undefined {
    const slot = this.slots.get(entryId);
    return slot && slot.entry.state === 'in_flight' && slot.entry.attempt === attempt ? slot : undefined;
  }

  private purgeExpired(now: number): void {
    if (now < this.nextPurge) return;
    for (const [id, slot] of this.slots) {
      if (slot.entry.kind === 'key' && slot.entry.state !== 'in_flight' && !isLive(slot.entry, now)) this.slots.delete(id);
    }
    this.nextPurge = now + LEDGER_PURGE_INTERVAL_MS;
  }

  private guard<T>(operation: () => T): Promise<T> {
    return this.host.guard(operation);
  }
}

function counterKey(sessionId: string, window: number, epoch: number, fingerprint: string): string {
  return `${sessionId}\u0000${window}\u0000${epoch}\u0000${fingerprint}`;
}

function freeze(entry: LedgerEntry): LedgerEntry {
  return Object.freeze(entry);
}

/** A replayed entry whose body the caller may not alias. */
function withCopiedBody(entry: LedgerEntry): LedgerEntry {
  const response = entry.response;
  if (!response || response.body === null) return entry;
  return Object.freeze({ ...entry, response: { ...response, body: Buffer.from(response.body) } });
}

/** The entry without its recorded response (listings never carry bodies). */
function bare(entry: LedgerEntry): LedgerEntry {
  if (entry.response === undefined) return entry;
  const { response: _response, ...rest } = entry;
  return Object.freeze(rest);
}
