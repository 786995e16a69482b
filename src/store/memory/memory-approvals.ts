// Approvals in process memory (tests and demos). Each method does all its work synchronously inside the
// store's guard, so in single-threaded JS every transition is atomic exactly like one SQLite statement.
import {
  APPROVAL_STATES,
  type ApprovalDecision,
  type ApprovalFilter,
  type ApprovalRecord,
  type ApprovalState,
  type ApprovalStore,
  type ApprovalUse,
  type DecideResult,
  type ExpireReason,
  type FindOrCreateResult,
  type NewApproval,
  type SessionEndReason,
} from '../approval-types.js';
import type { StoreGuard } from '../guard.js';
import type { SessionRecord } from '../types.js';

export class MemoryApprovals implements ApprovalStore {
  /** Insertion order = creation order (ties broken like sqlite by id when times are equal). */
  private readonly approvals = new Map<string, ApprovalRecord>();

  constructor(
    private readonly guard: StoreGuard,
    /** The session as stored now: consume() is fenced by its state and epoch, as in SQL. */
    private readonly session: (sessionId: string) => SessionRecord | undefined = () => undefined,
  ) {}

  findOrCreatePending(approval: NewApproval): Promise<FindOrCreateResult> {
    return this.guard(() => {
      const now = approval.createdAt;
      const expired: ApprovalRecord[] = [];
      let existing: ApprovalRecord | undefined;
      for (const a of this.approvals.values()) {
        if (a.sessionId !== approval.sessionId || a.digest !== approval.digest || a.state !== 'pending') continue;
        if (a.expiresAt <= now) expired.push(this.put({ ...a, state: 'expired', expireReason: 'ttl', updatedAt: now }));
        else existing = a;
      }
      if (existing) return { created: false, approval: existing, expired };
      if (this.approvals.has(approval.approvalId)) throw new Error(`duplicate approval id ${approval.approvalId}`);
      const record = this.put({
        ...approval,
        state: 'pending',
        expiresAt: now + approval.ttlMs,
        updatedAt: now,
        decidedBy: null,
        decidedAt: null,
        comment: null,
        consumedAt: null,
        consumedEpoch: null,
        consumedRequestId: null,
        expireReason: null,
      });
      return { created: true, approval: record, expired };
    });
  }

  get(approvalId: string): Promise<ApprovalRecord | null> {
    return this.guard(() => this.approvals.get(approvalId) ?? null);
  }

  listForAction(sessionId: string, digest: string): Promise<ApprovalRecord[]> {
    return this.guard(() =>
      newestFirst(
        [...this.approvals.values()].filter(
          (a) => a.sessionId === sessionId && a.digest === digest && (a.state === 'pending' || a.state === 'approved' || a.state === 'denied'),
        ),
      ),
    );
  }

  list(filter: ApprovalFilter): Promise<ApprovalRecord[]> {
    return this.guard(() => {
      const found = newestFirst(
        [...this.approvals.values()].filter(
          (a) =>
            (filter.state === undefined || a.state === filter.state) &&
            (filter.sessionId === undefined || a.sessionId === filter.sessionId) &&
            (filter.ruleIds === undefined || filter.ruleIds.includes(a.ruleId)),
        ),
      );
      // As SQL LIMIT: a negative limit means none.
      return filter.limit === undefined || filter.limit < 0 ? found : found.slice(0, filter.limit);
    });
  }

  listOpen(sessionId: string, now: number): Promise<ApprovalRecord[]> {
    return this.guard(() =>
      newestFirst(
        [...this.approvals.values()].filter(
          (a) => a.sessionId === sessionId && (a.state === 'pending' || a.state === 'approved') && a.expiresAt > now,
        ),
      ).reverse(),
    );
  }

  decide(approvalId: string, decision: ApprovalDecision): Promise<DecideResult> {
    return this.guard(() => {
      const current = this.approvals.get(approvalId) ?? null;
      if (!current || current.state !== 'pending' || current.expiresAt <= decision.now) return { ok: false, current };
      const approval = this.put({
        ...current,
        state: decision.state,
        decidedBy: decision.decidedBy,
        decidedAt: decision.now,
        comment: decision.comment,
        expiresAt: decision.now + current.ttlMs,
        updatedAt: decision.now,
      });
      return { ok: true, approval };
    });
  }

  consume(approvalId: string, use: ApprovalUse): Promise<ApprovalRecord | null> {
    return this.guard(() => {
      const current = this.approvals.get(approvalId);
      if (!current || current.state !== 'approved' || current.expiresAt <= use.now) return null;
      const session = this.session(current.sessionId);
      if (session?.state !== 'active' || session.epoch !== use.epoch) return null;
      return this.put({
        ...current,
        state: 'consumed',
        consumedAt: use.now,
        consumedEpoch: use.epoch,
        consumedRequestId: use.requestId,
        updatedAt: use.now,
      });
    });
  }

  expire(approvalId: string, now: number, reason: ExpireReason): Promise<ApprovalRecord | null> {
    return this.guard(() => {
      const current = this.approvals.get(approvalId);
      if (!current) return null;
      const due = reason === 'ttl' ? (current.state === 'pending' || current.state === 'approved') && current.expiresAt <= now : current.state === 'approved';
      return due ? this.put({ ...current, state: 'expired', expireReason: reason, updatedAt: now }) : null;
    });
  }

  expireDue(now: number): Promise<ApprovalRecord[]> {
    return this.guard(() => {
      const expired: ApprovalRecord[] = [];
      for (const a of this.approvals.values()) {
        if ((a.state === 'pending' || a.state === 'approved') && a.expiresAt <= now) {
          expired.push(this.put({ ...a, state: 'expired', expireReason: 'ttl', updatedAt: now }));
        }
      }
      return expired;
    });
  }

  expireForSession(sessionId: string, now: number, reason: SessionEndReason): Promise<ApprovalRecord[]> {
    return this.guard(() => {
      const expired: ApprovalRecord[] = [];
      for (const a of this.approvals.values()) {
        if (a.sessionId === sessionId && (a.state === 'pending' || a.state === 'approved')) {
          expired.push(this.put({ ...a, state: 'expired', expireReason: reason, updatedAt: now }));
        }
      }
      return expired;
    });
  }

  expireOfEndedSessions(now: number): Promise<ApprovalRecord[]> {
    return this.guard(() => {
      const expired: ApprovalRecord[] = [];
      for (const a of this.approvals.values()) {
        const state = this.session(a.sessionId)?.state;
        if ((a.state === 'pending' || a.state === 'approved') && (state === 'closed' || state === 'revoked')) {
          expired.push(this.put({ ...a, state: 'expired', expireReason: state === 'closed' ? 'session_closed' : 'session_revoked', updatedAt: now }));
        }
      }
      return expired;
    });
  }

  countByState(): Promise<Record<ApprovalState, number>> {
    return this.guard(() => {
      const counts = Object.fromEntries(APPROVAL_STATES.map((s) => [s, 0])) as Record<ApprovalState, number>;
      for (const a of this.approvals.values()) counts[a.state] += 1;
      return counts;
    });
  }

  /** Stores a frozen copy: nothing the caller holds (input or output) aliases stored state. */
  private put(a: ApprovalRecord): ApprovalRecord {
    const record: ApprovalRecord = Object.freeze({
      ...a,
      approverRoles: Object.freeze([...a.approverRoles]),
      action: Object.freeze({ ...a.action }),
      bodyPreview: a.bodyPreview === null ? null : new Uint8Array(a.bodyPreview),
    });
    this.approvals.set(record.approvalId, record);
    return record;
  }
}

/** The sqlite order: created_at DESC, approval_id DESC. */
function newestFirst(list: ApprovalRecord[]): ApprovalRecord[] {
  return list.sort((a, b) => b.createdAt - a.createdAt || (a.approvalId < b.approvalId ? 1 : a.approvalId > b.approvalId ? -1 : 0));
}
