// The one storage seam (DESIGN rule 7). Every backend (sqlite, memory, later postgres) implements this
// interface and passes test/contract/store-contract.ts. Anything that fences is a single atomic operation
// inside the backend (DESIGN rule 10): callers never read-modify-write an epoch themselves.
//
// The seam is network-shaped (DESIGN rule 7): every operation is asynchronous and atomic in the backend
// itself (a statement, a transaction, a conditional update), so a caller never relies on running in the
// same process or on the absence of an await. Failures of the backend itself (I/O, corruption,
// connection) are thrown as GatewayError('store_unavailable') by the shared guard (guard.ts): callers
// fail closed without inspecting backend errors.
import type { AnchorStore } from './anchor-types.js';
import type { ApprovalStore } from './approval-types.js';
import type { LedgerStore } from './ledger-types.js';
import type { McpSessionStore } from './mcp-session-types.js';
import type { KeyStore } from './key-types.js';
import type { NotificationStore } from './notification-types.js';
import type { ConsoleSessionStore } from './console-session-types.js';
import type { ReplicaStore } from './replica-types.js';

export type SessionState = 'active' | 'suspended' | 'closed' | 'revoked';
export const SESSION_STATES: readonly SessionState[] = ['active', 'suspended', 'closed', 'revoked'];
export const FINAL_STATES: readonly SessionState[] = ['closed', 'revoked'];
/** The states a session can still be used or resumed from (the complement of FINAL_STATES). */
export const OPEN_STATES: readonly SessionState[] = ['active', 'suspended'];
/** OPEN_STATES as an SQL list, for the backends' statements and partial indexes. */
export const OPEN_STATES_SQL = `(${OPEN_STATES.map((state) => `'${state}'`).join(', ')})`;

export interface SessionRecord {
  readonly sessionId: string;
  readonly taskId: string;
  readonly agentId: string;
  readonly state: SessionState;
  readonly stateReason: string | null;
  /** Fencing token: 1 at creation, +1 per successful resume. */
  readonly epoch: number;
  /** Current scope (tool names), recomputed on every resume. */
  readonly scope: readonly string[];
  /** Scope granted at creation; resume intersects with it so scope never widens. */
  readonly originalScope: readonly string[];
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly leaseExpiresAt: number;
  readonly resumes: number;
  /** Caller-supplied JSON object from session creation, or null. */
  readonly metadata: Record<string, unknown> | null;
}

export type CreateSessionResult = { ok: true; session: SessionRecord } | { ok: false; existingSessionId: string };

export interface ResumeUpdate {
  /** Compare-and-set: the epoch the caller validated against. */
  readonly expectedEpoch: number;
  readonly scope: readonly string[];
  readonly now: number;
  readonly leaseExpiresAt: number;
  /** The bump happens only while resumes < maxResumes. */
  readonly maxResumes: number;
}

export interface TransitionRequest {
  /** States the session may be in for the transition to apply. */
  readonly from: readonly SessionState[];
  readonly to: SessionState;
  readonly reason: string | null;
  readonly now: number;
}

/** Result of a conditional write: either the new record, or what the record is now (null: no such session). */
export type ConditionalResult = { ok: true; session: SessionRecord } | { ok: false; current: SessionRecord | null };

export interface NewCheckpoint {
  readonly checkpointId: string;
  readonly sessionId: string;
  /** Written only while the session is active at this epoch (a fenced worker cannot checkpoint). */
  readonly epoch: number;
  readonly label: string | null;
  /** Serialised JSON state, or null. */
  readonly state: string | null;
  readonly stateDigest: string;
  readonly createdAt: number;
}

export interface CheckpointRecord extends NewCheckpoint {
  /** 1, 2, 3 … per session. */
  readonly seq: number;
}

/** How an epoch began. `before_history`: the session already existed when the store started keeping
 *  epoch history, so this row stands for its current epoch only and when it began is not known. */
export type EpochCause = 'create' | 'resume' | 'before_history';

/** One epoch of a session, written by the same atomic operation as the create or the winning resume. */
export interface EpochRecord {
  readonly sessionId: string;
  readonly epoch: number;
  /** When the epoch began (the create's createdAt, the resume's now); null for `before_history`. */
  readonly startedAt: number | null;
  readonly cause: EpochCause;
  /** The scope granted for this epoch. */
  readonly scope: readonly string[];
  /** The agent the epoch was granted to. */
  readonly agentId: string;
}

export interface SessionFilter {
  readonly state?: SessionState;
  readonly agentId?: string;
  readonly taskId?: string;
  readonly limit?: number;
}

/** Sessions and their checkpoints (SPEC §5). Every fencing write is one atomic backend operation. */
export interface SessionStore {
  /** Insert, unless the agent already has a non-final session with this task id. */
  create(session: SessionRecord): Promise<CreateSessionResult>;
  /** One primary-key read (one round trip); never cached by callers (epochs are not cached in process memory). */
  get(sessionId: string): Promise<SessionRecord | null>;
  list(filter: SessionFilter): Promise<SessionRecord[]>;
  countByState(): Promise<Record<SessionState, number>>;
  /** Atomic epoch bump: epoch+1, state active, scope, lease, resumes+1 — iff epoch = expectedEpoch,
   *  state ∈ {active, suspended} and resumes < maxResumes. */
  resume(sessionId: string, update: ResumeUpdate): Promise<ConditionalResult>;
  /** Atomic state change iff the current state is one of `from`. */
  transition(sessionId: string, change: TransitionRequest): Promise<ConditionalResult>;
  /** Sets lease_expires_at iff the session is active at `epoch`. False when fenced or not active. */
  renewLease(sessionId: string, epoch: number, leaseExpiresAt: number, now: number): Promise<boolean>;
  /** Suspends (reason lease_expired) every active session whose lease is at or before `now`; returns them. */
  suspendExpiredLeases(now: number): Promise<SessionRecord[]>;
  /** Closes (reason max_age) every non-final session created at or before `createdAtOrBefore`; returns them. */
  closeAged(createdAtOrBefore: number, now: number): Promise<SessionRecord[]>;
  /** Appends with seq = previous + 1, iff the session is active at checkpoint.epoch; null when fenced. */
  appendCheckpoint(checkpoint: NewCheckpoint): Promise<CheckpointRecord | null>;
  latestCheckpoint(sessionId: string): Promise<CheckpointRecord | null>;
  /** The session's checkpoints, newest (highest seq) first, at most `limit` (≥ 0). */
  listCheckpoints(sessionId: string, limit: number): Promise<CheckpointRecord[]>;
  /** The session's epochs, newest first, at most `limit` (≥ 0): one row per create and winning resume. */
  listEpochs(sessionId: string, limit: number): Promise<EpochRecord[]>;
}

/** Used client-assertion ids (SPEC §4): single use across every process sharing the store. */
export interface AssertionIdStore {
  /** Insert-if-absent. True on first use; false if already used. Entries may be forgotten after
   *  expiresAt (the assertion itself is expired by then). */
  use(key: string, expiresAt: number, now: number): Promise<boolean>;
}

export interface Store {
  readonly kind: 'sqlite' | 'memory' | 'postgres';
  readonly sessions: SessionStore;
  readonly assertionIds: AssertionIdStore;
  /** The gateway processes sharing this store (SPEC §17); see replica-types.ts. */
  readonly replicas: ReplicaStore;
  /** Approval records (SPEC §9); see approval-types.ts. */
  readonly approvals: ApprovalStore;
  /** The idempotency ledger (SPEC §10); see ledger-types.ts. */
  readonly ledger: LedgerStore;
  /** MCP session bindings (SPEC §11); see mcp-session-types.ts. */
  readonly mcpSessions: McpSessionStore;
  /** Signed audit anchors (SPEC §13); see anchor-types.ts. */
  readonly anchors: AnchorStore;
  /** Published public signing keys and their retirement (SPEC §17); see key-types.ts. */
  readonly keys: KeyStore;
  /** The webhook outbox (SPEC §18); see notification-types.ts. */
  readonly notifications: NotificationStore;
  /** Console sign-in sessions; see console-session-types.ts. */
  readonly consoleSessions: ConsoleSessionStore;

  /** Cheap liveness probe for /readyz; throws store_unavailable when the backend does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
