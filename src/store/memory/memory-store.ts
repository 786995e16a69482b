// In-process Store for tests and demos (SPEC §1: loses everything on exit). Each method does all its work
// synchronously before its first await, so in single-threaded JS it is atomic exactly like one SQLite
// statement. Records are deep-frozen copies: a caller editing what it got back cannot change stored state.
import { GatewayError } from '../../errors/gateway-error.js';
import {
  FINAL_STATES,
  SESSION_STATES,
  type CheckpointRecord,
  type ConditionalResult,
  type CreateSessionResult,
  type NewCheckpoint,
  type ResumeUpdate,
  type SessionFilter,
  type SessionRecord,
  type SessionState,
  type Store,
  type TransitionRequest,
} from '../types.js';
import { MemoryApprovals } from './memory-approvals.js';
import { MemoryLedger } from './memory-ledger.js';
import { MemoryMcpSessions } from './memory-mcp-sessions.js';
import { deepFreeze } from '../../util/freeze.js';
import { MemoryAnchors } from './memory-anchors.js';
import { MemoryKeys } from './memory-keys.js';
import { MemoryNotifications } from './memory-notifications.js';
import { MemoryConsoleSessions } from './memory-console-sessions.js';

export interface MemoryStoreOptions {
  /** Called with the underlying error before it is thrown as store_unavailable (parity with sqlite). */
  readonly onError?: (err: unknown) => void;
  /** SPEC §10: how long closed ledger entries keep their metadata (default 7 days). */
  readonly ledgerRetentionMs?: number;
}

/** Same cadence as the sqlite store, so both answer identically around expiry. */
const ASSERTION_PURGE_INTERVAL_MS = 60_000;

export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  readonly approvals = new MemoryApprovals(
    (operation) => this.guard(operation),
    (id) => this.sessions.get(id),
  );
  readonly mcpSessions = new MemoryMcpSessions((operation) => this.guard(operation));
  readonly anchors = new MemoryAnchors((operation) => this.guard(operation));
  readonly keys = new MemoryKeys((operation) => this.guard(operation));
  readonly notifications = new MemoryNotifications((operation) => this.guard(operation));
  readonly consoleSessions = new MemoryConsoleSessions((operation) => this.guard(operation));
  readonly ledger: MemoryLedger;
  private readonly sessions = new Map<string, SessionRecord>();
  /** `agentId \0 taskId` → session id of its one non-final session (the sqlite partial unique index). */
  private readonly openByAgentTask = new Map<string, string>();
  private readonly checkpoints = new Map<string, CheckpointRecord[]>();
  private readonly checkpointIds = new Set<string>();
  private readonly assertions = new Map<string, number>();
  private nextAssertionPurge = 0;
  private closed = false;

  constructor(private readonly options: MemoryStoreOptions = {}) {
    const host = {
      session: (id: string) => this.sessions.get(id),
      checkpointSeq: (id: string) => this.checkpoints.get(id)?.at(-1)?.seq ?? 0,
      guard: <T>(operation: () => T) => this.guard(operation),
    };
    this.ledger = new MemoryLedger(host, options.ledgerRetentionMs);
  }

  createSession(session: SessionRecord): Promise<CreateSessionResult> {
    return this.guard(() => {
      if (this.sessions.has(session.sessionId)) throw new Error(`duplicate session id ${session.sessionId}`);
      const existing = isOpen(session.state) ? this.openByAgentTask.get(openKey(session)) : undefined;
      if (existing !== undefined) return { ok: false, existingSessionId: existing };
      return { ok: true, session: this.put(freezeSession(session, copyMetadata(session.metadata))) };
    });
  }

  getSession(sessionId: string): Promise<SessionRecord | null> {
    return this.guard(() => this.sessions.get(sessionId) ?? null);
  }

  listSessions(filter: SessionFilter): Promise<SessionRecord[]> {
    return this.guard(() => {
      const found = [...this.sessions.values()]
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

  countSessionsByState(): Promise<Record<SessionState, number>> {
    return this.guard(() => {
      const counts = Object.fromEntries(SESSION_STATES.map((s) => [s, 0])) as Record<SessionState, number>;
      for (const s of this.sessions.values()) counts[s.state] += 1;
      return counts;
    });
  }

  resumeSession(sessionId: string, update: ResumeUpdate): Promise<ConditionalResult> {
    return this.guard(() => {
      const current = this.sessions.get(sessionId) ?? null;
      if (!current || current.epoch !== update.expectedEpoch || !isOpen(current.state) || current.resumes >= update.maxResumes) {
        return { ok: false, current };
      }
      const bumped = { epoch: current.epoch + 1, state: 'active', stateReason: null, resumes: current.resumes + 1 } as const;
      const next = { ...current, ...bumped, scope: update.scope, leaseExpiresAt: update.leaseExpiresAt, updatedAt: update.now };
      const session = this.put(freezeSession(next, current.metadata), current);
      return { ok: true, session };
    });
  }

  transitionSession(sessionId: string, change: TransitionRequest): Promise<ConditionalResult> {
    return this.guard(() => {
      const current = this.sessions.get(sessionId) ?? null;
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
      const current = this.sessions.get(sessionId);
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

  closeAgedSessions(createdAtOrBefore: number, now: number): Promise<SessionRecord[]> {
    return this.guard(() =>
      this.updateWhere(
        (s) => isOpen(s.state) && s.createdAt <= createdAtOrBefore,
        (s) => ({ ...s, state: 'closed', stateReason: 'max_age', updatedAt: now }),
      ),
    );
  }

  appendCheckpoint(checkpoint: NewCheckpoint): Promise<CheckpointRecord | null> {
    return this.guard(() => {
      const session = this.sessions.get(checkpoint.sessionId);
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

  useAssertionId(key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.guard(() => {
      if (now >= this.nextAssertionPurge) {
        for (const [k, exp] of this.assertions) if (exp < now) this.assertions.delete(k);
        this.nextAssertionPurge = now + ASSERTION_PURGE_INTERVAL_MS;
      }
      // An entry past its expiry counts as forgotten whether or not the purge has run (as in sqlite).
      const previous = this.assertions.get(key);
      if (previous !== undefined && previous >= now) return false;
      this.assertions.set(key, expiresAt);
      return true;
    });
  }

  ping(): Promise<void> {
    return this.guard(() => undefined);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Stores `next`, keeping the open-session index in step with its state. */
  private put(next: SessionRecord, previous?: SessionRecord): SessionRecord {
    if (previous && isOpen(previous.state)) this.openByAgentTask.delete(openKey(previous));
    if (isOpen(next.state)) this.openByAgentTask.set(openKey(next), next.sessionId);
    this.sessions.set(next.sessionId, next);
    if (previous && isOpen(previous.state) && !isOpen(next.state)) this.ledger.closeSession(next.sessionId, next.updatedAt);
    return next;
  }

  private updateWhere(match: (s: SessionRecord) => boolean, change: (s: SessionRecord) => SessionRecord): SessionRecord[] {
    const changed: SessionRecord[] = [];
    for (const current of this.sessions.values()) {
      if (match(current)) changed.push(this.put(freezeSession(change(current), current.metadata), current));
    }
    return changed;
  }

  private guard<T>(operation: () => T): Promise<T> {
    try {
      // A closed store fails like a closed sqlite connection, so shutdown ordering bugs show in tests.
      if (this.closed) throw new Error('memory store is closed');
      return Promise.resolve(operation());
    } catch (err) {
      try {
        this.options.onError?.(err);
      } catch {
        // A failing observer must not replace the store error the caller needs to see.
      }
      return Promise.reject(new GatewayError('store_unavailable', { cause: err }));
    }
  }
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
