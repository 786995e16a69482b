// Approval records (SPEC §9) as every Store backend keeps them. Approvals belong to the session, not to an
// epoch: nothing here is fenced by the epoch, so they survive resumes and restarts.
//
// States (SPEC §9): pending → approved → consumed; pending → denied; pending|approved → expired.
// `expiresAt` means, per state: pending — when an undecided request lapses (created + rule ttl);
// approved — until when it may be consumed (decided + ttl); denied — until when calls with this digest get
// approval_denied (decided + ttl). Every transition is one conditional write inside the backend (DESIGN
// rule 10), so a decision and a consumption, or two consumptions, can never both win.

export type ApprovalState = 'pending' | 'approved' | 'denied' | 'consumed' | 'expired';
export const APPROVAL_STATES: readonly ApprovalState[] = ['pending', 'approved', 'denied', 'consumed', 'expired'];

/** Why an approval expired: its ttl passed, at use its decider no longer held an approver role, or its
 *  session became final (SPEC §9.4: a closed or revoked session's open approvals expire). */
export type ExpireReason = 'ttl' | 'approver_revoked' | SessionEndReason;
export type SessionEndReason = 'session_closed' | 'session_revoked';

/** What the call was (the action summary of SPEC §9.3). */
export interface ApprovalAction {
  readonly tool: string;
  readonly method: string;
  /** Normalised path below the tool. */
  readonly path: string;
  /** Raw query including "?", or "". */
  readonly query: string;
  readonly mcpTool: string | null;
}

/** Everything fixed when a call first asks for the approval. */
export interface NewApproval {
  readonly approvalId: string;
  readonly sessionId: string;
  readonly agentId: string;
  /** Action digest (SPEC §9.1), lowercase hex. */
  readonly digest: string;
  readonly ruleId: string;
  /** The rule's approver roles when requested (informational: deciding checks the current policy). */
  readonly approverRoles: readonly string[];
  readonly action: ApprovalAction;
  /** First 8 KiB of the body, or null; shown only to approvers and admins. */
  readonly bodyPreview: Uint8Array | null;
  readonly bodySize: number;
  readonly bodySha256: string | null;
  /** The rule's ttl, kept so a decision's lifetime does not depend on a later policy edit. */
  readonly ttlMs: number;
  readonly requestedEpoch: number;
  readonly requestId: string;
  readonly createdAt: number;
}

export interface ApprovalRecord extends NewApproval {
  readonly state: ApprovalState;
  readonly expiresAt: number;
  readonly updatedAt: number;
  readonly decidedBy: string | null;
  readonly decidedAt: number | null;
  readonly comment: string | null;
  readonly consumedAt: number | null;
  readonly consumedEpoch: number | null;
  readonly consumedRequestId: string | null;
  readonly expireReason: ExpireReason | null;
}

export interface FindOrCreateResult {
  /** True when `approval` was inserted by this call; false when an unexpired pending one was reused. */
  readonly created: boolean;
  readonly approval: ApprovalRecord;
  /** Pending approvals for the same (session, digest) that lapsed and were expired on the way. */
  readonly expired: readonly ApprovalRecord[];
}

export interface ApprovalDecision {
  readonly state: 'approved' | 'denied';
  readonly decidedBy: string;
  readonly comment: string | null;
  readonly now: number;
}

export type DecideResult = { ok: true; approval: ApprovalRecord } | { ok: false; current: ApprovalRecord | null };

export interface ApprovalUse {
  readonly now: number;
  readonly epoch: number;
  readonly requestId: string;
}

export interface ApprovalFilter {
  readonly state?: ApprovalState;
  readonly sessionId?: string;
  /** Only approvals of these rules (an approver's view); undefined = all. */
  readonly ruleIds?: readonly string[];
  readonly limit?: number;
}

export interface ApprovalStore {
  /** One atomic step: expire lapsed pending approvals for (session, digest), then return the unexpired
   *  pending one or insert `approval` as pending with expiresAt = createdAt + ttlMs (now = createdAt). */
  findOrCreatePending(approval: NewApproval): Promise<FindOrCreateResult>;
  get(approvalId: string): Promise<ApprovalRecord | null>;
  /** Pending, approved and denied approvals for (session, digest), newest first, whatever their expiry. */
  listForAction(sessionId: string, digest: string): Promise<ApprovalRecord[]>;
  /** Newest first. */
  list(filter: ApprovalFilter): Promise<ApprovalRecord[]>;
  /** The session's pending and approved-unconsumed approvals not yet expired at `now`, oldest first. */
  listOpen(sessionId: string, now: number): Promise<ApprovalRecord[]>;
  /** pending → approved|denied iff pending and unexpired at decision.now; expiresAt becomes now + ttlMs. */
  decide(approvalId: string, decision: ApprovalDecision): Promise<DecideResult>;
  /** approved → consumed iff approved and unexpired at use.now AND the session is active at use.epoch (the
   *  fence is part of the same atomic write, DESIGN rule 10: a session resumed, suspended, closed or revoked
   *  after the call was checked keeps the approval unconsumed, SPEC §9.4). Exactly one of any number of
   *  concurrent callers gets the record; the others get null. */
  consume(approvalId: string, use: ApprovalUse): Promise<ApprovalRecord | null>;
  /** pending|approved → expired. Reason 'ttl' applies only once expiresAt ≤ now; 'approver_revoked' applies
   *  to an approved one whatever its expiry. Null when the condition does not hold. */
  expire(approvalId: string, now: number, reason: ExpireReason): Promise<ApprovalRecord | null>;
  /** Expires every pending or approved approval of the session, whatever its expiry; returns them. */
  expireForSession(sessionId: string, now: number, reason: SessionEndReason): Promise<ApprovalRecord[]>;
  /** Expires every pending or approved approval of a closed or revoked session (reason session_closed /
   *  session_revoked); returns them. Start-up repair for a process that stopped between a session's final
   *  transition and expireForSession; idempotent, safe on every replica. */
  expireOfEndedSessions(now: number): Promise<ApprovalRecord[]>;
  /** Expires every pending or approved approval whose expiresAt ≤ now; returns them (the sweep). */
  expireDue(now: number): Promise<ApprovalRecord[]>;
  countByState(): Promise<Record<ApprovalState, number>>;
}
