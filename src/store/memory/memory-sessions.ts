// Sessions and checkpoints of the in-process store (tests and demos). Every operation is one synchronous
// step run by the store's guard: the memory backend's equivalent of one SQL statement or transaction,
// executed to completion before any other operation of this store can start (JavaScript runs one callback
// at a time). Callers never rely on that: they get the same compare-and-set results as from SQLite or
// PostgreSQL. Records are deep-frozen copies: a caller editing what it got back cannot change stored state.
import {
  FINAL_STATES,
  SESSION_STATES,
  type CheckpointRecord,
  type ConditionalResult,
  type CreateSessionResult,
  type EpochCause,
  type EpochRecord,
  type NewCheckpoint,
  type ResumeUpdate,
  type SessionFilter,
  type SessionRecord,
  type SessionState,
  type SessionStore,
  type TransitionRequest,
} from '../types.js';
import type { StoreGuard } from '../guard.js';
import { deepFreeze } from '../../util/freeze.js';

/** What closing a ledger window or a session does to the ledger (the sqlite triggers' twin). */
export interface MemoryLedgerWindows {
  closeWindow(sessionId: string, closedSeq: number, now: number): void;
  closeSession(sessionId: string, now: number): void;
}

export class MemorySessions implements SessionStore {
  private readonly records = new Map<string, SessionRecord>();
  /** `agentId \0 taskId` → session id of its one non-final session (the sqlite partial unique index). */
  private readonly openByAgentTask = new Map<string, string>();
  private readonly checkpoints = new Map<string, CheckpointRecord[]>();
  private readonly checkpointIds = new Set<string>();
  /** Oldest first, one per create and winning resume (the sql backends' session_epochs rows). */
  private readonly epochs = new Map<string, EpochRecord[]>();

  constructor(
    private readonly guard: StoreGuard,
    private readonly ledger: MemoryLedgerWindows,
  ) {}

  /** Synchronous reads for the other memory sub-stores, inside their own guarded step. */
  session(sessionId: string): SessionRecord | undefined {
    return this.records.get(sessionId);
  }

  checkpointSeq(sessionId: string): number {
    return this.checkpoints.get(sessionId)?.at(-1)?.seq ?? 0;
  }

  create(session: SessionRecord): Promise<CreateSessionResult> {
    return this.guard(() => {
      if (this.records.has(session.sessionId)) throw new Error(`duplicate session id ${session.sessionId}`);
      const existing = isOpen(session.state) ? this.openByAgentTask.get(openKey(session)) : undefined;
      if (existing !== undefined) return { ok: false, existingSessionId: existing };
      const created = this.put(freezeSession(session, copyMetadata(session.metadata)));
      this.recordEpoch(created, 'create', created.createdAt);
      return { ok: true, session: created };
    });
  }

  get(sessionId: string): Promise<SessionRecord | null> {
    return this.guard(() => this.records.get(sessionId) ?? null);
  }

  list(filter: SessionFilter): Promise<SessionRecord[]> {
    return this.guard(() => {
      const found = [...this.records.values()]
        .filter(
          (s) =>
            (filter.state === undefined || s.state === filter.state) &&
            (filter.agentId === undefined || s.agentId === filter.agentId) &&
            (filter.taskId === undefined || s.taskId === filter.taskId),
        )
        .sort((a, b) => a.createdAt - b.createdAt || (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0));
      // As SQL LIMIT: a negative limit means none.
      return filter.limit === undefined || filter.limit < 0 ? found : found.slice(0, filter.limit);
    });
  }

  countByState(): Promise<Record<SessionState, number>> {
    return this.guard(() => {
      const counts = Object.fromEntries(SESSION_STATES.map((s) => [s, 0])) as Record<SessionState, number>;
      for (const s of this.records.values()) counts[s.state] += 1;
      return counts;
    });
  }

  resume(sessionId: string, update: ResumeUpdate): Promise<ConditionalResult> {
    return this.guard(() => {
      const current = this.records.get(sessionId) ?? null;
      if (!current || current.epoch !== update.expectedEpoch || !isOpen(current.state) || current.resumes >= update.maxResumes) {
        return { ok: false, current };
      }
      const bumped = { epoch: current.epoch + 1, state: 'active', stateReason: null, resumes: current.resumes + 1 } as const;
      const next = { ...current, ...bumped, scope: update.scope, leaseExpiresAt: update.leaseExpiresAt, updatedAt: update.now };
      const session = this.put(freezeSession(next, current.metadata), current);
      // Same step as the compare-and-set: a winning resume always has its row, a losing one never.
      this.recordEpoch(session, 'resume', update.now);
      return { ok: true, session };
    });
  }

  transition(sessionId: string, change: TransitionRequest): Promise<ConditionalResult> {
    return this.guard(() => {
      const current = this.records.get(sessionId) ?? null;
      if (!current || !change.from.includes(current.state)) return { ok: false, current };
      // Re-opening a final session while the agent has another open one for the task is refused.
      const holder = this.openByAgentTask.get(openKey(current));
      if (isOpen(change.to) && holder !== undefined && holder !== sessionId) return { ok: false, current };
      const next = freezeSession({ ...current, state: change.to, stateReason: change.reason, updatedAt: change.now }, current.metadata);
      return { ok: true, session: this.put(next, current) };
    });
  }

  renewLease(sessionId: string, epoch: number, leaseExpiresAt: number, now: number): Promise<boolean> {
    return this.guard(() => {
      const current = this.records.get(sessionId);
      if (!current || current.state !== 'active' || current.epoch !== epoch) return false;
      this.put(freezeSession({ ...current, leaseExpiresAt, updatedAt: now }, current.metadata), current);
      return true;
    });
  }

  suspendExpiredLeases(now: number): Promise<SessionRecord[]> {
    return this.guard(() =>
      this.updateWhere(
        (s) => s.state === 'active' && s.leaseExpiresAt <= now,
        (s) => ({ ...s, state: 'suspended', stateReason: 'lease_expired', updatedAt: now }),
      ),
    );
  }

  closeAged(createdAtOrBefore: number, now: number): Promise<SessionRecord[]> {
    return this.guard(() =>
      this.updateWhere(
        (s) => isOpen(s.state) && s.createdAt <= createdAtOrBefore,
        (s) => ({ ...s, state: 'closed', stateReason: 'max_age', updatedAt: now }),
      ),
    );
  }

  appendCheckpoint(checkpoint: NewCheckpoint): Promise<CheckpointRecord | null> {
    return this.guard(() => {
      const session = this.records.get(checkpoint.sessionId);
      if (!session || session.state !== 'active' || session.epoch !== checkpoint.epoch) return null;
      if (this.checkpointIds.has(checkpoint.checkpointId)) throw new Error(`duplicate checkpoint id ${checkpoint.checkpointId}`);
      const list = this.checkpoints.get(checkpoint.sessionId) ?? [];
      const record: CheckpointRecord = Object.freeze({
        checkpointId: checkpoint.checkpointId,
        sessionId: checkpoint.sessionId,
        seq: (list.at(-1)?.seq ?? 0) + 1,
        epoch: checkpoint.epoch,
        label: checkpoint.label,
        state: checkpoint.state,
        stateDigest: checkpoint.stateDigest,
        createdAt: checkpoint.createdAt,
      });
      list.push(record);
      this.checkpoints.set(checkpoint.sessionId, list);
      // SPEC §10: the checkpoint closes the window the previous one opened (the sqlite trigger's twin).
      this.ledger.closeWindow(record.sessionId, record.seq - 1, record.createdAt);
      this.checkpointIds.add(record.checkpointId);
      return record;
    });
  }

  latestCheckpoint(sessionId: string): Promise<CheckpointRecord | null> {
    return this.guard(() => this.checkpoints.get(sessionId)?.at(-1) ?? null);
  }

  listCheckpoints(sessionId: string, limit: number): Promise<CheckpointRecord[]> {
    return this.guard(() => newestFirst(this.checkpoints.get(sessionId), limit));
  }

  listEpochs(sessionId: string, limit: number): Promise<EpochRecord[]> {
    return this.guard(() => newestFirst(this.epochs.get(sessionId), limit));
  }

  private recordEpoch(s: SessionRecord, cause: EpochCause, startedAt: number): void {
    const row = { sessionId: s.sessionId, epoch: s.epoch, startedAt, cause, scope: s.scope, agentId: s.agentId };
    const list = this.epochs.get(s.sessionId) ?? [];
    list.push(Object.freeze(row));
    this.epochs.set(s.sessionId, list);
  }

  /** Stores `next`, keeping the open-session index in step with its state. */
  private put(next: SessionRecord, previous?: SessionRecord): SessionRecord {
    if (previous && isOpen(previous.state)) this.openByAgentTask.delete(openKey(previous));
    if (isOpen(next.state)) this.openByAgentTask.set(openKey(next), next.sessionId);
    this.records.set(next.sessionId, next);
    if (previous && isOpen(previous.state) && !isOpen(next.state)) this.ledger.closeSession(next.sessionId, next.updatedAt);
    return next;
  }

  private updateWhere(match: (s: SessionRecord) => boolean, change: (s: SessionRecord) => SessionRecord): SessionRecord[] {
    const changed: SessionRecord[] = [];
    for (const current of this.records.values()) {
      if (match(current)) changed.push(this.put(freezeSession(change(current), current.metadata), current));
    }
    return changed;
  }
}

/** The last `limit` entries of an oldest-first list, newest first (as SQL ORDER BY … DESC LIMIT). */
function newestFirst<T>(list: readonly T[] | undefined, limit: number): T[] {
  if (list === undefined || limit <= 0) return [];
  return list.slice(-limit).reverse();
}

function isOpen(state: SessionState): boolean {
  return !FINAL_STATES.includes(state);
}

function openKey(s: SessionRecord): string {
  return `${s.agentId}\u0000${s.taskId}`;
}

/** A frozen copy: nothing the caller holds (input or output) aliases stored state. `metadata` must
 *  already be a frozen copy (copyMetadata once at creation; stored records then share it). */
function freezeSession(s: SessionRecord, metadata: SessionRecord['metadata']): SessionRecord {
  return Object.freeze({
    sessionId: s.sessionId,
    taskId: s.taskId,
    agentId: s.agentId,
    state: s.state,
    stateReason: s.stateReason,
    epoch: s.epoch,
    scope: Object.freeze([...s.scope]),
    originalScope: Object.freeze([...s.originalScope]),
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    leaseExpiresAt: s.leaseExpiresAt,
    resumes: s.resumes,
    metadata,
  });
}

function copyMetadata(metadata: SessionRecord['metadata']): SessionRecord['metadata'] {
  return metadata === null ? null : deepFreeze(structuredClone(metadata));
}
