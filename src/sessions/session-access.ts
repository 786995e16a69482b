// SPEC §6 steps 5–7, shared by the data plane and the control plane (§7: "a session token is accepted on
// the control plane only under the same checks as on the data plane (steps 1–7)").
// The session is read from the store on every call: epochs and states are never cached (DESIGN rule 10).
import { GatewayError } from '../errors/gateway-error.js';
import type { AgentDef, PolicySnapshot } from '../policy/types.js';
import type { SessionRecord, Store } from '../store/types.js';
import type { VerifiedToken } from './token-verify.js';
import type { SessionLifecycle } from './lifecycle.js';

export interface AdmittedSession {
  readonly session: SessionRecord;
  readonly agent: AgentDef;
}

/**
 * SPEC §6 steps 5–6 for a token of `tokenEpoch`: the refusal for the session as it stands, or undefined when
 * it is active at that epoch. Also used where a conditional write finds the session changed after admission
 * (a concurrent resume, suspend, close or revoke), so a lost race answers exactly like the fence would.
 */
export function sessionRefusal(session: SessionRecord | null, tokenEpoch: number): GatewayError | undefined {
  if (session === null) return new GatewayError('session_unknown', { bearer: true });
  switch (session.state) {
    case 'suspended':
      // SPEC §6 step 6: like a stale epoch, a suspension is ended only by a resume.
      return new GatewayError('session_suspended', {
        bearer: true,
        detail: 'The session is suspended; resume it to get a new token',
        fields: { resume_required: true },
      });
    case 'closed':
      return new GatewayError('session_closed', { bearer: true });
    case 'revoked':
      return new GatewayError('session_revoked', { bearer: true });
    case 'active':
      // Step 6: the epoch is the fencing token.
      if (tokenEpoch === session.epoch) return undefined;
      return new GatewayError('session_stale_epoch', {
        bearer: true,
        detail: `The token is for epoch ${tokenEpoch}; the session is at epoch ${session.epoch}`,
        // SPEC §6 step 6: the body names the epoch to resume from.
        fields: { resume_required: true, current_epoch: session.epoch },
      });
  }
}

export async function admitSession(
  lifecycle: SessionLifecycle,
  policy: PolicySnapshot,
  token: VerifiedToken,
  requestId: string | undefined,
): Promise<AdmittedSession> {
  // Step 5: the session exists and is active (lease and max_age enforced here, on access).
  const found = await lifecycle.store.sessions.get(token.sessionId);
  if (!found || found.agentId !== token.agentId) throw new GatewayError('session_unknown', { bearer: true });
  const session = await lifecycle.enforceTimeLimits(found, policy, requestId);
  const refusal = sessionRefusal(session, token.epoch);
  if (refusal) throw refusal;
  // Step 7: the agent is still present and enabled, and the token is not older than a rotation.
  const agent = policy.agents.get(token.agentId);
  if (!agent || !agent.enabled) throw new GatewayError('agent_disabled', { bearer: true });
  if (agent.notBefore !== null && token.iat * 1000 < agent.notBefore) {
    throw new GatewayError('token_revoked', { bearer: true });
  }
  return { session, agent };
}

/** A conditional write found the session changed since it was admitted: throw the refusal the fence would
 *  give now (a concurrent resume, suspend, close or revoke won the race). */
export async function refuseChanged(store: Pick<Store, 'sessions'>, admitted: SessionRecord): Promise<never> {
  const current = await store.sessions.get(admitted.sessionId);
  throw sessionRefusal(current, admitted.epoch) ?? new GatewayError('internal_error');
}
