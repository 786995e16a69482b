// Start-up phase: the domain services, built once and shared by the data plane, the control plane and the
// console (DESIGN: three adapters over the same domain calls).
import type { AnchoredAuditStream } from '../audit/anchors.js';
import { ApprovalService } from '../approvals/approval-service.js';
import { ApprovalSignal } from '../approvals/approval-signal.js';
import { DecisionWakeups } from '../approvals/decision-wakeups.js';
import { recoverApprovals } from '../approvals/recovery.js';
import { ReplicaPresence } from '../ledger/replica-presence.js';
import { LiveCalls } from '../live/live-calls.js';
import { sessionWatch } from '../live/session-watch.js';
import type { GatewayMetrics } from '../metrics/metrics.js';
import { PolicyHolder } from '../policy/holder.js';
import { policyAuditHooks } from '../policy/reload-audit.js';
import { createAgentAuthenticator } from '../sessions/agent-auth.js';
import type { KeyRing } from '../sessions/key-ring.js';
import { SessionLifecycle } from '../sessions/lifecycle.js';
import { SessionActions } from '../sessions/session-actions.js';
import { SessionService } from '../sessions/session-service.js';
import { createTokenVerifier } from '../sessions/token-verify.js';
import { createDispatchers } from '../upstream/dispatchers.js';
import type { StartContext } from './start-context.js';

export type GatewayServices = Awaited<ReturnType<typeof buildServices>>;

/** SPEC §9.4, §10, §17: what a stopped process left behind is settled before any listener opens. */
export async function recoverAtStart(ctx: StartContext, audit: AnchoredAuditStream): Promise<ReplicaPresence> {
  const { config, store, clock, replicaId } = ctx;
  // Calls a stopped replica left in flight get an unknown outcome.
  const timeoutMs = config.store.kind === 'postgres' ? config.store.replicaTimeoutMs : undefined;
  const presence = new ReplicaPresence({ store, audit, clock, replicaId, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  await presence.start();
  // Approvals left open on a closed or revoked session expire now.
  await recoverApprovals(store, audit, clock);
  return presence;
}

export async function buildServices(ctx: StartContext, keys: KeyRing, audit: AnchoredAuditStream, metrics: GatewayMetrics) {
  const { config, store, clock, logger, signals } = ctx;
  const policy = await PolicyHolder.create({
    dir: config.policiesDir, toolNames: new Set(config.tools.keys()), clock, ...policyAuditHooks(audit, metrics, logger, clock),
  });
  const lifecycle = new SessionLifecycle(store, clock, audit);
  const live = watchLiveCalls(ctx, lifecycle, policy);
  const dispatchers = createDispatchers(config.tools);
  ctx.onFailure(() => dispatchers.close());
  const tokens = { issuer: config.tokens.issuer, audience: config.tokens.audience };
  const agentAuth = createAgentAuthenticator({ store, issuer: tokens.issuer, clock });
  const approvalSignal = new ApprovalSignal();
  return {
    policy, lifecycle, live, dispatchers, approvalSignal,
    wakeups: new DecisionWakeups(signals),
    verifier: createTokenVerifier({ resolveKey: (kid) => keys.keyFor(kid), ...tokens, clock }),
    sessions: new SessionService({ store, clock, policy, agentAuth, keys, lifecycle, metrics, tokens }),
    actions: new SessionActions(store, clock, lifecycle),
    approvals: new ApprovalService({ store, clock, policy, audit, signals, signal: approvalSignal }),
  };
}

/** SPEC §8: in-flight calls and open streams by session, fenced on every session change — here, and on the
 *  other replicas within 1 s (SPEC §17) through the store's change signals. */
function watchLiveCalls(ctx: StartContext, lifecycle: SessionLifecycle, policy: PolicyHolder): LiveCalls {
  const { config, store, clock, logger, signals, replicaId, options } = ctx;
  const live = new LiveCalls({
    maxPerSession: config.limits.maxInflightPerSession,
    ...sessionWatch({ store, lifecycle, policy, clock }),
    onError: (err) => logger.warn({ err }, 'live-call re-check failed'),
    ...(options.liveRecheckMs !== undefined ? { intervalMs: options.liveRecheckMs } : {}),
  });
  lifecycle.onChange((session) => live.sessionChanged(session));
  lifecycle.onChange((session) => void signals.publish({ kind: 'session', sessionId: session.sessionId }));
  signals.subscribe((change) => {
    if (change.kind === 'session' && change.origin !== replicaId) live.poke(change.sessionId);
  });
  return live;
}
