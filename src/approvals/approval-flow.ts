// The data-plane side of SPEC §9: what a call whose decision is require_approval gets. It proceeds only by
// consuming (atomically, once) an approved, unexpired approval for its exact digest that still holds under
// the CURRENT policy; otherwise it creates or reuses the pending approval, waits up to the rule's `hold`
// for a decision, and answers approval_required. A live denial answers approval_denied.
//
// Re-validation reads policy.current(), not the snapshot the request pinned at its start: SPEC §9.2 says
// "in the current policy", and a request may have waited through a reload during its hold. Creating the
// pending approval uses the pinned decision, like every other part of the request (SPEC §3).
import { GatewayError } from '../errors/gateway-error.js';
import { deniedError } from '../policy/denied-error.js';
import type { CompiledRule, PolicySnapshot, RequestFacts } from '../policy/types.js';
import type { ApprovalAction, ApprovalRecord, NewApproval } from '../store/approval-types.js';
import type { SessionRecord, Store } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import { newId } from '../util/ids.js';
import { rfc3339 } from '../util/clock.js';

/** SPEC §9.3: the stored body preview is the first 8 KiB. */
export const BODY_PREVIEW_BYTES = 8 * 1024;
/** How often a held call re-reads its approval. Polling the store also sees decisions made through another
 *  replica's control plane when no change signal reaches this process (signals only wake it sooner). */
export const DEFAULT_POLL_MS = 100;

export interface ApprovalFlowEnv {
  readonly store: Store;
  readonly clock: Clock;
  readonly policy: { current(): PolicySnapshot };
  /** Resolves after `ms`, or at once when `signal` aborts; injected so tests control time. */
  readonly sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  /** Ends a wait early when the approval is decided (here or on another replica); see decision-wakeups.ts. */
  readonly wakeups?: { sleep(approvalId: string, ms: number, signal: AbortSignal | undefined): Promise<void> };
  readonly pollMs?: number;
}

export type ApprovalStepName = 'approval.request' | 'approval.consume' | 'approval.expire';

export interface ApprovalStep {
  readonly event: ApprovalStepName;
  readonly approval: ApprovalRecord;
}

export interface ApprovalCall {
  readonly session: SessionRecord;
  /** The deciding rule of the pinned decision (effect require_approval). */
  readonly rule: CompiledRule;
  /** The request facts; roles are re-read from the current policy on re-validation. */
  readonly facts: RequestFacts;
  readonly action: ApprovalAction;
  readonly digest: string;
  readonly body: Uint8Array | null;
  readonly bodySha256: string | null;
  readonly requestId: string;
  /** Aborts when the client goes away or the call is fenced: stop holding. A GatewayError reason (the
   *  session's refusal) is what the call answers; any other reason ends it with approval_required. */
  readonly signal?: AbortSignal;
  /** SPEC §9.4: after each wait, re-checks the call from §6 step 5 on against the session as it is now and
   *  the current policy; throws the refusal. */
  readonly recheck?: () => Promise<void>;
  /** Each lifecycle step, as it happens (audited with the request). */
  readonly emit: (step: ApprovalStep) => void;
  /** Called before each wait of a hold: steps emitted so far are written now, and what the call holds
   *  that it must not keep while it waits is let go (see stage-approval). */
  readonly beforeWait?: () => void | Promise<void>;
  /** Called when the call is about to proceed (before an approval is consumed, or when none is needed any
   *  more): it takes back what beforeWait let go; a throw refuses the call and consumes nothing. */
  readonly beforeProceed?: () => Promise<void>;
}

/** The call may proceed: it consumed `approval`, or the current policy no longer asks for one. */
export type ApprovalOutcome = { readonly kind: 'consumed'; readonly approval: ApprovalRecord } | { readonly kind: 'not_required' };

type Attempt = ApprovalOutcome | { readonly kind: 'pending'; readonly approval: ApprovalRecord };

export async function resolveApproval(env: ApprovalFlowEnv, call: ApprovalCall): Promise<ApprovalOutcome> {
  const spec = call.rule.approval;
  if (call.rule.effect !== 'require_approval' || spec === undefined) throw new Error(`rule ${call.rule.id} is not a require_approval rule`);
  const deadline = env.clock.now() + spec.holdMs;
  for (;;) {
    const result = await attempt(env, call);
    if (result.kind !== 'pending') return result;
    if (env.clock.now() >= deadline || call.signal?.aborted) throw endOfHold(call.signal, result.approval);
    // A decision during the hold lets this same request proceed (the next attempt consumes it).
    await call.beforeWait?.();
    await waitForDecision(env, result.approval.approvalId, deadline, call.signal);
    // SPEC §9.4: a call that waited is checked again before anything is consumed or forwarded. A wait that
    // was cut short (the session changed, the client went away, shutdown) consumes nothing.
    if (call.signal?.aborted) throw endOfHold(call.signal, result.approval);
    await call.recheck?.();
  }
}

/** The session's refusal when the registry ended the wait (SPEC §8), else approval_required. */
function endOfHold(signal: AbortSignal | undefined, approval: ApprovalRecord): GatewayError {
  const reason: unknown = signal?.aborted ? signal.reason : undefined;
  return reason instanceof GatewayError ? reason : approvalRequired(approval);
}

async function attempt(env: ApprovalFlowEnv, call: ApprovalCall): Promise<Attempt> {
  const approvals = env.store.approvals;
  const now = env.clock.now();
  const live: ApprovalRecord[] = [];
  for (const found of await approvals.listForAction(call.session.sessionId, call.digest)) {
    if (found.state !== 'denied' && found.expiresAt <= now) {
      // An expired approval is never used (SPEC §9.3); record the transition once, whoever sees it first.
      const expired = await approvals.expire(found.approvalId, now, 'ttl');
      if (expired) call.emit({ event: 'approval.expire', approval: expired });
    } else {
      live.push(found);
    }
  }
  // A denial in force wins over everything else for this digest (fail closed).
  const denied = live.find((a) => a.state === 'denied' && a.expiresAt > now);
  if (denied) throw approvalDenied(denied);

  for (const approved of live.filter((a) => a.state === 'approved')) {
    const verdict = revalidate(env.policy.current(), call, approved);
    if (verdict === 'not_required') {
      await call.beforeProceed?.();
      return { kind: 'not_required' };
    }
    if (verdict === 'approver_revoked') {
      const expired = await approvals.expire(approved.approvalId, now, 'approver_revoked');
      if (expired) call.emit({ event: 'approval.expire', approval: expired });
      continue;
    }
    await call.beforeProceed?.();
    const consumed = await approvals.consume(approved.approvalId, { now, epoch: call.session.epoch, requestId: call.requestId });
    if (consumed) {
      call.emit({ event: 'approval.consume', approval: consumed });
      return { kind: 'consumed', approval: consumed };
    }
    // Another call consumed it first: this one needs a new approval.
  }

  const created = await approvals.findOrCreatePending(newApproval(call, now));
  for (const expired of created.expired) call.emit({ event: 'approval.expire', approval: expired });
  if (created.created) call.emit({ event: 'approval.request', approval: created.approval });
  return { kind: 'pending', approval: created.approval };
}

/**
 * SPEC §9.2 under the current policy: a deny now wins (policy_denied); a plain allow now needs no approval
 * (proceed without consuming); otherwise the person who approved must still exist and hold one of the
 * approver roles of the rule that decides now.
 */
function revalidate(policy: PolicySnapshot, call: ApprovalCall, approval: ApprovalRecord): 'ok' | 'not_required' | 'approver_revoked' {
  const agent = policy.agents.get(call.facts.agentId);
  if (!agent || !agent.enabled) throw new GatewayError('agent_disabled', { bearer: true });
  const decision = policy.evaluate({ ...call.facts, roles: agent.roles });
  if (decision.effect === 'deny') throw deniedError(decision);
  if (decision.effect === 'allow') return 'not_required';
  const approvers = decision.rule?.approval?.approvers ?? [];
  const person = approval.decidedBy === null ? undefined : policy.people.get(approval.decidedBy);
  return person !== undefined && person.roles.some((role) => approvers.includes(role)) ? 'ok' : 'approver_revoked';
}

async function waitForDecision(env: ApprovalFlowEnv, approvalId: string, deadline: number, signal: AbortSignal | undefined): Promise<void> {
  const wakeups = env.wakeups;
  const sleep = env.sleep ?? (wakeups ? (ms: number, s: AbortSignal | undefined) => wakeups.sleep(approvalId, ms, s) : abortableSleep);
  const pollMs = env.pollMs ?? DEFAULT_POLL_MS;
  for (;;) {
    const remaining = deadline - env.clock.now();
    if (remaining <= 0 || signal?.aborted) return;
    await sleep(Math.min(pollMs, remaining), signal);
    const current = await env.store.approvals.get(approvalId);
    if (current?.state !== 'pending') return;
  }
}

function newApproval(call: ApprovalCall, now: number): NewApproval {
  const spec = call.rule.approval!;
  return {
    approvalId: newId('apr'),
    sessionId: call.session.sessionId,
    agentId: call.session.agentId,
    digest: call.digest,
    ruleId: call.rule.id,
    approverRoles: spec.approvers,
    action: call.action,
    bodyPreview: call.body === null ? null : call.body.subarray(0, BODY_PREVIEW_BYTES),
    bodySize: call.body?.length ?? 0,
    bodySha256: call.bodySha256,
    ttlMs: spec.ttlMs,
    requestedEpoch: call.session.epoch,
    requestId: call.requestId,
    createdAt: now,
  };
}

function approvalRequired(approval: ApprovalRecord): GatewayError {
  return new GatewayError('approval_required', {
    detail: `Rule ${approval.ruleId} requires a human approval for this exact call; retry once a person approved ${approval.approvalId}`,
    fields: { approval_id: approval.approvalId, rule_id: approval.ruleId, expires_at: rfc3339(approval.expiresAt) },
  });
}

function approvalDenied(approval: ApprovalRecord): GatewayError {
  // The person's identity and comment are for approvers and admins, not for the agent.
  return new GatewayError('approval_denied', {
    detail: `A person denied this exact call under rule ${approval.ruleId}; the denial holds until ${rfc3339(approval.expiresAt)}`,
    fields: { approval_id: approval.approvalId, rule_id: approval.ruleId, denied_until: rfc3339(approval.expiresAt) },
  });
}

/** setTimeout that resolves early (never rejects) when the signal aborts. */
export function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
