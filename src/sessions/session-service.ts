// Session lifecycle operations (SPEC §5, §7): create, resume, token refresh. They return what happened;
// the adapter (control/session-routes.ts) turns it into a status and body.
// Every call re-verifies the agent credential in full (SPEC §4) and reads the current policy revision.
import type { ActionTrail } from '../audit/audit-draft.js';
import { GatewayError } from '../errors/gateway-error.js';
import { stateConflict } from './state-errors.js';
import type { GatewayMetrics } from '../metrics/metrics.js';
import type { PolicyHolder } from '../policy/holder.js';
import type { AgentDef, PolicySnapshot } from '../policy/types.js';
import type { SessionRecord, Store } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import { newSessionId, newTaskId } from '../util/ids.js';
import type { AgentAuthenticator } from './agent-auth.js';
import type { SessionLifecycle } from './lifecycle.js';
import type { SigningKey } from './key-ring.js';
import type { AgentCredentialInput } from './agent-auth.js';
import type { CreateSessionInput, ResumeInput } from './session-inputs.js';
import { mintSessionToken, type MintedToken } from './token-mint.js';
import type { ApprovalRecord } from '../store/approval-types.js';
import type { LedgerSummary } from '../store/ledger-types.js';
import type { CheckpointRecord } from '../store/types.js';

/** How many recent ledger entries a resume reports (SPEC §10). */
export const RESUME_RECENT_ENTRIES = 5;

/** A session and the token just minted for its current epoch (create, token refresh). */
export interface IssuedSession {
  readonly kind: 'created' | 'refreshed';
  readonly session: SessionRecord;
  readonly token: MintedToken;
}

/** SPEC §7 resume: the new epoch's token and what the resumed worker needs to carry on. */
export interface ResumedSession {
  readonly kind: 'resumed';
  readonly session: SessionRecord;
  readonly token: MintedToken;
  readonly previousEpoch: number;
  readonly checkpoint: CheckpointRecord | null;
  /** SPEC §10: what the gateway will answer from its ledger if the worker repeats its calls. */
  readonly ledger: LedgerSummary;
  /** The session's pending and approved-but-unconsumed approvals. */
  readonly approvals: readonly ApprovalRecord[];
}

export interface SessionServiceDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly policy: PolicyHolder;
  readonly agentAuth: AgentAuthenticator;
  /** The key that signs now (key-ring.ts); rejects with store_unavailable while it is retired. */
  readonly keys: { signingKey(): Promise<SigningKey> };
  readonly tokens: { readonly issuer: string; readonly audience: string };
  readonly lifecycle: SessionLifecycle;
  readonly metrics: GatewayMetrics;
}

export class SessionService {
  constructor(private readonly deps: SessionServiceDeps) {}

  async create(input: CreateSessionInput, ctx: ActionTrail): Promise<IssuedSession> {
    const policy = this.deps.policy.current();
    const agent = await this.authenticate(policy, input, ctx);
    const reachable = policy.reachableTools(agent);
    const scope = input.scope ? [...new Set(input.scope)] : [...reachable].sort();
    const outside = scope.filter((tool) => !reachable.has(tool));
    if (outside.length > 0) {
      throw new GatewayError('scope_exceeded', { detail: 'The requested scope names tools the agent cannot reach', fields: { tools: outside } });
    }
    if (scope.length === 0) throw new GatewayError('scope_empty', { detail: 'The agent can reach no tool under the current policy' });
    const now = this.deps.clock.now();
    const session: SessionRecord = {
      sessionId: newSessionId(),
      taskId: input.task_id ?? newTaskId(),
      agentId: agent.id,
      state: 'active',
      stateReason: null,
      epoch: 1,
      scope,
      originalScope: scope,
      createdAt: now,
      updatedAt: now,
      leaseExpiresAt: now + policy.sessions.leaseTtlMs,
      resumes: 0,
      metadata: input.metadata ?? null,
    };
    ctx.audit.taskId = session.taskId;
    // Before any state change: a retired signing key refuses the call instead of leaving a session without a token.
    const signer = await this.deps.keys.signingKey();
    const created = await this.deps.store.sessions.create(session);
    if (!created.ok) {
      throw new GatewayError('session_exists', { detail: 'This agent already has an open session for the task', fields: { session_id: created.existingSessionId } });
    }
    const issued = await this.issue(created.session, policy, signer);
    this.describe(ctx, created.session, issued);
    return { kind: 'created', session: created.session, token: issued };
  }

  async resume(sessionId: string, input: ResumeInput, ctx: ActionTrail): Promise<ResumedSession> {
    ctx.audit.sessionId = sessionId;
    const policy = this.deps.policy.current();
    const agent = await this.authenticate(policy, input, ctx);
    const session = await this.ownedSession(sessionId, agent, policy, ctx);
    assertResumable(session, policy);
    if (input.expected_epoch !== undefined && input.expected_epoch !== session.epoch) throw epochConflict(session);
    // SPEC §5: the scope the session holds just before this resume ∩ what the agent's current roles reach
    // now. Not the scope at creation: a tool dropped by an earlier resume stays dropped even when the rule
    // that reached it comes back, so scope never widens on resume.
    const reachable = policy.reachableTools(agent);
    const scope = session.scope.filter((tool) => reachable.has(tool));
    if (scope.length === 0) throw new GatewayError('scope_empty', { detail: 'No tool of the session is reachable under the current policy' });
    const signer = await this.deps.keys.signingKey();
    const now = this.deps.clock.now();
    const result = await this.deps.store.sessions.resume(sessionId, {
      expectedEpoch: input.expected_epoch ?? session.epoch,
      scope,
      now,
      leaseExpiresAt: now + policy.sessions.leaseTtlMs,
      maxResumes: policy.sessions.maxResumes,
    });
    if (!result.ok) {
      // Lost a race (another resume, a revoke, a close): report what the session is now.
      if (!result.current) throw new GatewayError('session_not_found');
      assertResumable(result.current, policy);
      throw epochConflict(result.current);
    }
    this.deps.metrics.resumes.inc();
    // SPEC §8: the previous worker's open streams and held calls are fenced off now, not at their next call.
    await this.deps.lifecycle.changed(result.session, ctx.requestId);
    const issued = await this.issue(result.session, policy, signer);
    this.describe(ctx, result.session, issued);
    ctx.audit.extra.previous_epoch = session.epoch;
    return { kind: 'resumed', session: result.session, token: issued, previousEpoch: session.epoch, ...(await this.carryOn(sessionId)) };
  }

  /** What the resumed worker needs to carry on (SPEC §7): its last checkpoint, its open approvals (they
   *  belong to the session, not the epoch, so it can retry exactly the calls that wait on, or hold, one)
   *  and its ledger (SPEC §10). */
  private async carryOn(sessionId: string): Promise<Pick<ResumedSession, 'checkpoint' | 'ledger' | 'approvals'>> {
    const checkpoint = await this.deps.store.sessions.latestCheckpoint(sessionId);
    const approvals = await this.deps.store.approvals.listOpen(sessionId, this.deps.clock.now());
    const ledger = await this.deps.store.ledger.summary(sessionId, RESUME_RECENT_ENTRIES);
    return { checkpoint, ledger, approvals };
  }

  /** A fresh token for the current epoch (SPEC §7); the session must be active. */
  async refreshToken(sessionId: string, input: AgentCredentialInput, ctx: ActionTrail): Promise<IssuedSession> {
    ctx.audit.sessionId = sessionId;
    const policy = this.deps.policy.current();
    const agent = await this.authenticate(policy, input, ctx);
    const session = await this.ownedSession(sessionId, agent, policy, ctx);
    if (session.state !== 'active') throw stateConflict(session);
    const issued = await this.issue(session, policy, await this.deps.keys.signingKey());
    this.describe(ctx, session, issued);
    return { kind: 'refreshed', session, token: issued };
  }

  private async authenticate(policy: PolicySnapshot, input: AgentCredentialInput, ctx: ActionTrail): Promise<AgentDef> {
    ctx.audit.actor = { id: input.agent_id, type: 'agent' };
    return this.deps.agentAuth.authenticate(policy, input);
  }

  private async ownedSession(sessionId: string, agent: AgentDef, policy: PolicySnapshot, ctx: ActionTrail): Promise<SessionRecord> {
    const found = await this.deps.store.sessions.get(sessionId);
    if (!found) throw new GatewayError('session_not_found');
    if (found.agentId !== agent.id) throw new GatewayError('forbidden', { detail: 'The session belongs to another agent' });
    ctx.audit.epoch = found.epoch;
    ctx.audit.taskId = found.taskId;
    return this.deps.lifecycle.enforceTimeLimits(found, policy, ctx.requestId);
  }

  private async issue(session: SessionRecord, policy: PolicySnapshot, signingKey: SigningKey): Promise<MintedToken> {
    return mintSessionToken({ signingKey }, {
      issuer: this.deps.tokens.issuer,
      audience: this.deps.tokens.audience,
      agentId: session.agentId,
      sessionId: session.sessionId,
      epoch: session.epoch,
      scope: [...session.scope],
      ttlMs: policy.sessions.tokenTtlMs,
      now: this.deps.clock.now(),
    });
  }

  private describe(ctx: ActionTrail, session: SessionRecord, issued: MintedToken): void {
    ctx.audit.sessionId = session.sessionId;
    ctx.audit.epoch = session.epoch;
    ctx.audit.taskId = session.taskId;
    ctx.audit.tokenJti = issued.jti;
  }
}

/** SPEC §5: resume only from active or suspended, within max_resumes. */
function assertResumable(session: SessionRecord, policy: PolicySnapshot): void {
  if (session.state === 'closed' || session.state === 'revoked') throw stateConflict(session);
  if (session.resumes >= policy.sessions.maxResumes) throw new GatewayError('resume_limit');
}


function epochConflict(session: SessionRecord): GatewayError {
  return new GatewayError('epoch_conflict', { fields: { current_epoch: session.epoch } });
}
