// Who is calling the control plane: an agent's session token (SPEC §6 steps 1–7, same checks as the data
// plane) or a person's secret (SPEC §4). Both arrive as `Authorization: Bearer …`; a compact JWS is a
// session token, anything else is a person's secret (secrets minted by `secret new` contain no dots).
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/gateway-error.js';
import { bearerCredential, bearerToken, singleAuthorization } from '../http/authorization.js';
import type { AgentDef, PersonDef, PolicySnapshot } from '../policy/types.js';
import type { SessionLifecycle } from '../sessions/lifecycle.js';
import { authenticatePerson } from '../sessions/person-auth.js';
import { admitSession } from '../sessions/session-access.js';
import type { TokenVerifier, VerifiedToken } from '../sessions/token-verify.js';
import type { SessionRecord } from '../store/types.js';
import type { ControlContext } from './control-context.js';

export type ControlCaller =
  | { readonly kind: 'session'; readonly token: VerifiedToken; readonly session: SessionRecord; readonly agent: AgentDef }
  | { readonly kind: 'person'; readonly person: PersonDef };

export interface CallerDeps {
  readonly verifier: TokenVerifier;
  readonly lifecycle: SessionLifecycle;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export async function sessionCaller(deps: CallerDeps, policy: PolicySnapshot, req: IncomingMessage, ctx: ControlContext) {
  const token = await deps.verifier.verify(bearerToken(singleAuthorization(req)));
  ctx.audit.actor = { id: token.agentId, type: 'agent' };
  ctx.audit.tokenJti = token.jti;
  ctx.audit.sessionId = token.sessionId;
  ctx.audit.epoch = token.epoch;
  const { session, agent } = await admitSession(deps.lifecycle, policy, token, ctx.requestId);
  ctx.audit.taskId = session.taskId;
  return { kind: 'session' as const, token, session, agent };
}

export function personCaller(policy: PolicySnapshot, req: IncomingMessage, ctx: ControlContext) {
  const person = authenticatePerson(policy, singleAuthorization(req));
  ctx.audit.actor = { id: person.id, type: 'person' };
  return { kind: 'person' as const, person };
}

export async function anyCaller(deps: CallerDeps, policy: PolicySnapshot, req: IncomingMessage, ctx: ControlContext): Promise<ControlCaller> {
  return presentsSessionToken(req) ? sessionCaller(deps, policy, req, ctx) : personCaller(policy, req, ctx);
}

/** The one bearer credential is a compact JWS (an agent's session token), not a person's secret.
 *  Two Authorization headers → bad_request. */
export function presentsSessionToken(req: IncomingMessage): boolean {
  return COMPACT_JWS.test(bearerCredential(singleAuthorization(req) ?? '') ?? '');
}

export function requireAdmin(caller: ControlCaller): PersonDef {
  if (caller.kind !== 'person' || !caller.person.roles.includes('admin')) {
    throw new GatewayError('forbidden', { detail: 'This needs the admin role' });
  }
  return caller.person;
}

/** A session-token caller may act only on its own session (SPEC §7: another session's routes → 403). */
export function requireOwnSession(caller: ControlCaller, sessionId: string): void {
  if (caller.kind === 'session' && caller.session.sessionId !== sessionId) {
    throw new GatewayError('forbidden', { detail: 'The token belongs to another session' });
  }
}
