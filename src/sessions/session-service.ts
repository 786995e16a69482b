// Session lifecycle on the control plane (SPEC §5, §7): create, resume, token refresh.
// Every call re-verifies the agent credential in full (SPEC §4) and reads the current policy revision.
import type { ControlContext, ControlReply } from '../control/control-context.js';
import type { CreateSessionInput, CredentialInput, ResumeInput } from '../control/schemas.js';
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
import type { SigningKeys } from './signing-keys.js';
import { mintSessionToken } from './token-mint.js';
import { checkpointWithState, tokenView, type IssuedToken } from './views.js';
import { agentApprovalView } from '../approvals/approval-views.js';
import { ledgerSummaryView, RESUME_RECENT_ENTRIES } from '../ledger/ledger-views.js';

export interface SessionServiceDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly policy: PolicyHolder;
  readonly agentAuth: AgentAuthenticator;
  readonly keys: SigningKeys;
  readonly tokens: { readonly issuer: string; readonly audience: string };
  readonly lifecycle: SessionLifecycle;
  readonly metrics: GatewayMetrics;
  readonly publicUrl: () => string;
}

export class SessionService {
  constructor(private readonly deps: SessionServiceDeps) {}

  async create(input: CreateSessionInput, ctx: ControlContext): Promise<ControlReply> {
    ctx.audit.event = 'session.create';
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
    const created = await this.deps.store.createSession(session);
    if (!created.ok) {
      throw new GatewayError('session_exists', { detail: 'This agent already has an open session for the task', fields: { session_id: created.existingSessionId } });
    }
    const issued = await this.issue(created.session, policy);
    this.describe(ctx, created.session, issued);
    return { status: 201, body: tokenView(created.session, issued, this.deps.publicUrl()) };
  }

  async resume(sessionId: string, input: ResumeInput, ctx: ControlContext): Promise<ControlReply> {
    ctx.audit.event = 'session.resume';
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
    const now = this.deps.clock.now();
    const result = await this.deps.store.resumeSession(sessionId, {
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
    const issued = await this.issue(result.session, policy);
    this.describe(ctx, result.session, issued);
    ctx.audit.extra.previous_epoch = session.epoch;
    const checkpoint = await this.deps.store.latestCheckpoint(sessionId);
    // SPEC §7: the session's pending and approved-but-unconsumed approvals (they belong to the session,
    // not the epoch, so the resumed worker can retry exactly the calls that wait on, or hold, one).
    const approvals = await this.deps.store.approvals.listOpen(sessionId, this.deps.clock.now());
    return {
      status: 200,
      body: {
        ...tokenView(result.session, issued, this.deps.publicUrl()),
        previous_epoch: session.epoch,
        checkpoint: checkpointWithState(checkpoint),
        // SPEC §10: what the gateway will answer from its ledger if the worker repeats its calls.
        ledger: ledgerSummaryView(await this.deps.store.ledger.summary(sessionId, RESUME_RECENT_ENTRIES)),
        approvals: approvals.map(agentApprovalView),
      },
    };
  }

  /** A fresh token for the current epoch (SPEC §7); the session must be active. */
  async refreshToken(sessionId: string, input: CredentialInput, ctx: ControlContext): Promise<ControlReply> {
    ctx.audit.event = 'session.token';
    ctx.audit.sessionId = sessionId;
    const policy = this.deps.policy.current();
    const agent = await this.authenticate(policy, input, ctx);
    const session = await this.ownedSession(sessionId, agent, policy, ctx);
    if (session.state !== 'active') throw stateConflict(session);
    const issued = await this.issue(session, policy);
    this.describe(ctx, session, issued);
    return { status: 200, body: tokenView(session, issued, this.deps.publicUrl()) };
  }

  private async authenticate(policy: PolicySnapshot, input: CredentialInput, ctx: ControlContext): Promise<AgentDef> {
    ctx.audit.actor = { id: input.agent_id, type: 'agent' };
    return this.deps.agentAuth.authenticate(policy, input);
  }

  private async ownedSession(sessionId: string, agent: AgentDef, policy: PolicySnapshot, ctx: ControlContext): Promise<SessionRecord> {
    const found = await this.deps.store.getSession(sessionId);
    if (!found) throw new GatewayError('session_not_found');
    if (found.agentId !== agent.id) throw new GatewayError('forbidden', { detail: 'The session belongs to another agent' });
    ctx.audit.epoch = found.epoch;
    ctx.audit.taskId = found.taskId;
    return this.deps.lifecycle.enforceTimeLimits(found, policy, ctx.requestId);
  }

  private async issue(session: SessionRecord, policy: PolicySnapshot): Promise<IssuedToken> {
    return mintSessionToken(this.deps.keys, {
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

  private describe(ctx: ControlContext, session: SessionRecord, issued: IssuedToken): void {
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
