// In-process LedgerStore (tests and demos). Each method does all its work synchronously before returning,
// so the epoch check and the reservation are one step, exactly like one SQLite transaction. Records and
// their indexes live in MemoryLedgerIndex; the occurrence rule is the shared one (ledger-occurrence.ts).
import { actionFor, canResolve, DEFAULT_LEDGER_RETENTION_MS, isLive, LEDGER_PURGE_INTERVAL_MS } from '../ledger-rules.js';
import { runOccurrenceSync, type OccurrenceKey, type OccurrenceTable } from '../ledger-occurrence.js';
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
import type { StoreGuard } from '../guard.js';
import { MemoryLedgerIndex, type Slot } from './memory-ledger-index.js';

/** What the ledger reads of the memory store it lives in. */
export interface MemoryLedgerHost {
  session(sessionId: string): SessionRecord | undefined;
  /** Whether that replica is registered and not stopped (its in-flight entries are left alone). */
  isRunning(replicaId: string): boolean;
  /** Seq of the session's latest checkpoint, 0 when none. */
  checkpointSeq(sessionId: string): number;
  /** The memory store's guard: fails closed (store_unavailable) once closed or on any error. */
  readonly guard: StoreGuard;
}

/** The counters of a session's current (window, epoch); any other window or epoch can never be read again. */
interface CounterGroup {
  readonly window: number;
  readonly epoch: number;
  readonly calls: Map<string, number>;
}

export class MemoryLedger implements LedgerStore {
  private readonly index = new MemoryLedgerIndex();
  private readonly counters = new Map<string, CounterGroup>();
  private readonly occurrences: OccurrenceTable<Slot> = this.occurrenceTable();
  private nextPurge = 0;

  constructor(
    private readonly host: MemoryLedgerHost,
    private readonly retentionMs = DEFAULT_LEDGER_RETENTION_MS,
  ) {}

  reserve(r: ReserveRequest): Promise<ReserveResult> {
    return this.guard((): ReserveResult => {
      const session = this.host.session(r.sessionId);
      if (!session || session.state !== 'active' || session.epoch !== r.epoch) return { kind: 'fenced', current: session ?? null };
      this.purgeExpired(r.now);
      return r.idempotencyKey === null ? runOccurrenceSync(this.occurrences, r) : this.reserveKey(r, r.idempotencyKey);
    });
  }

  /** SPEC §10: the window that `closedSeq` opened closed at a checkpoint; its bodies go now. */
  closeWindow(sessionId: string, closedSeq: number, now: number): void {
    this.index.closeWindow(sessionId, closedSeq, now);
    this.counters.delete(sessionId);
  }

  /** SPEC §10: the session became final; the bodies of its open window go now. */
  closeSession(sessionId: string, now: number): void {
    this.closeWindow(sessionId, this.host.checkpointSeq(sessionId), now);
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
        response: {
          status: outcome.status,
          headers: structuredClone(outcome.headers),
          body: outcome.body === null || slot.closedAt !== null ? null : Buffer.from(outcome.body),
        },
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
        const group = this.counters.get(entry.sessionId);
        const calls = group?.window === entry.checkpointSeq && group.epoch === slot.attemptEpoch ? group.calls : undefined;
        calls?.set(entry.fingerprint, Math.max((calls.get(entry.fingerprint) ?? 1) - 1, 0));
      }
      if (slot.attempts > 1) {
        slot.attempts -= 1;
        slot.entry = freeze({ ...entry, state: 'retry', updatedAt: now });
      } else this.index.remove(slot);
      return true;
    });
  }

  resolve(sessionId: string, entryId: string, resolution: 'retry' | 'done', by: string, now: number): Promise<ResolveResult> {
    return this.guard((): ResolveResult => {
      const slot = this.index.get(entryId);
      if (!slot || slot.entry.sessionId !== sessionId) return { ok: false, current: null };
      if (!canResolve(slot.entry, resolution)) return { ok: false, current: bare(slot.entry) };
      const previous = slot.entry.state;
      slot.entry = freeze({ ...slot.entry, state: resolution, resolvedBy: by, updatedAt: now });
      return { ok: true, entry: bare(slot.entry), previous };
    });
  }

  list(sessionId: string, now: number): Promise<LedgerEntry[]> {
    return this.guard(() => {
      const window = this.index.window(sessionId, this.host.checkpointSeq(sessionId));
      const keys = this.index.keysOf(sessionId).filter((s) => isLive(s.entry, now));
      // Ledger order across both kinds, as the index keeps it.
      const order = new Map([...this.index.all()].map((slot, i) => [slot.entry.entryId, i]));
      return [...window, ...keys]
        .sort((a, b) => order.get(a.entry.entryId)! - order.get(b.entry.entryId)!)
        .map((s) => bare(s.entry));
    });
  }

  summary(sessionId: string, recent: number): Promise<LedgerSummary> {
    return this.guard(() => {
      const window = this.host.checkpointSeq(sessionId);
      const entries = this.index.window(sessionId, window).map((s) => s.entry);
      return { checkpointSeq: window, count: entries.length, recent: entries.slice(-recent).map(bare) };
    });
  }

  recoverInFlight(now: number): Promise<LedgerEntry[]> {
    return this.guard(() => {
      const recovered: LedgerEntry[] = [];
      for (const slot of this.index.all()) {
        if (slot.entry.state !== 'in_flight' || this.host.isRunning(slot.entry.replicaId)) continue;
        slot.entry = freeze({ ...slot.entry, state: 'unknown', unknownReason: 'gateway_restart', updatedAt: now });
        recovered.push(bare(slot.entry));
      }
      return recovered;
    });
  }

  private reserveKey(r: ReserveRequest, idempotencyKey: string): ReserveResult {
    let found = this.index.key(r.sessionId, r.tool, idempotencyKey);
    if (found && !isLive(found.entry, r.now)) {
      this.index.remove(found);
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
      replicaId: r.replicaId,
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
    this.index.add(entry, r.epoch);
    return entry;
  }

  /** The memory side of the shared occurrence rule: every read is one map lookup. */
  private occurrenceTable(): OccurrenceTable<Slot> {
    const group = (k: OccurrenceKey): CounterGroup => {
      const current = this.counters.get(k.sessionId);
      if (current?.window === k.window && current.epoch === k.epoch) return current;
      const fresh = { window: k.window, epoch: k.epoch, calls: new Map<string, number>() };
      this.counters.set(k.sessionId, fresh);
      return fresh;
    };
    return {
      window: (sessionId) => this.host.checkpointSeq(sessionId),
      calls: (k) => group(k).calls.get(k.fingerprint) ?? 0,
      setCalls: (k, calls) => group(k).calls.set(k.fingerprint, calls),
      at: (k, occurrence) => this.index.at(k.sessionId, k.window, k.fingerprint, occurrence),
      last: (k) => this.index.last(k.sessionId, k.window, k.fingerprint),
      view: (slot) => bare(slot.entry),
      replay: (slot) => withCopiedBody(slot.entry),
      take: (slot, r) => this.take(slot, r),
      insert: (r, window, occurrence) => this.insert(r, window, occurrence, null),
    };
  }

  private take(slot: Slot, r: ReserveRequest): LedgerEntry {
    slot.attempts += 1;
    slot.attemptEpoch = r.epoch;
    slot.entry = freeze({ ...slot.entry, state: 'in_flight', unknownReason: null, attempt: r.attempt, replicaId: r.replicaId, updatedAt: r.now });
    return bare(slot.entry);
  }

  private held(entryId: string, attempt: string): Slot | undefined {
    const slot = this.index.get(entryId);
    return slot && slot.entry.state === 'in_flight' && slot.entry.attempt === attempt ? slot : undefined;
  }

  /** Expired key records and, past ledger_retention, closed entries (at most every LEDGER_PURGE_INTERVAL_MS). */
  private purgeExpired(now: number): void {
    if (now < this.nextPurge) return;
    this.index.purge((slot) => slot.entry.state !== 'in_flight' && !isLive(slot.entry, now), now - this.retentionMs);
    this.nextPurge = now + LEDGER_PURGE_INTERVAL_MS;
  }

  private guard<T>(operation: () => T): Promise<T> {
    return this.host.guard(operation);
  }
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
