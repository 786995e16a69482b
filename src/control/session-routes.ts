// Control-plane session routes (SPEC §7): authenticate → validate → call the session operation → map its
// result to status and body. The audit record is written by the router from the context's draft.
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/gateway-error.js';
import type { IssuedSession, ResumedSession } from '../sessions/session-service.js';
import type { TransitionedSession } from '../sessions/session-actions.js';
import type { SessionRecord } from '../store/types.js';
import { rfc3339 } from '../util/clock.js';
import { agentApprovalView } from './approval-views.js';
import { anyCaller, personCaller, requireAdmin, requireOwnSession, sessionCaller } from './caller.js';
import type { ControlContext, ControlReply } from './control-context.js';
import { parseJsonBody, validate } from './json-body.js';
import { ledgerSummaryView } from './ledger-views.js';
import { route, type ControlDeps, type ControlRoute } from './route.js';
import * as schemas from './schemas.js';
import { checkpointSummary, checkpointWithState, sessionView, tokenView } from './session-views.js';
import { queryParams } from '../http/query-params.js';

export const SESSION_ROUTES: readonly ControlRoute[] = [
  route('POST', '/v1/sessions', 'session.create', async (deps, _p, req, ctx) =>
    issued(deps, 201, await deps.sessions.create(await parseJsonBody(req, schemas.createSessionBody), ctx)),
  ),
  // Reads stay direct store lookups: a domain function would only wrap them (nothing is decided or changed).
  route('GET', '/v1/sessions', null, async (deps, _p, req, ctx) => {
    requireAdmin(personCaller(deps.policy.current(), req, ctx));
    const query = validate(schemas.sessionListQuery, queryParams(req.url));
    const sessions = await deps.store.sessions.list({
      ...(query.state ? { state: query.state } : {}),
      ...(query.agent_id ? { agentId: query.agent_id } : {}),
      ...(query.task_id ? { taskId: query.task_id } : {}),
      limit: 1000,
    });
    return { status: 200, body: { sessions: sessions.map((s) => sessionView(s)) } };
  }),
  route('GET', '/v1/sessions/:id', null, async (deps, [id], req, ctx) => {
    const session = await readableSession(deps, id!, req, ctx);
    return { status: 200, body: sessionView(session, await deps.store.sessions.latestCheckpoint(id!)) };
  }),
  route('POST', '/v1/sessions/:id/resume', 'session.resume', async (deps, [id], req, ctx) =>
    resumed(deps, await deps.sessions.resume(id!, await parseJsonBody(req, schemas.resumeBody), ctx)),
  ),
  route('POST', '/v1/sessions/:id/token', 'session.token', async (deps, [id], req, ctx) =>
    issued(deps, 200, await deps.sessions.refreshToken(id!, await parseJsonBody(req, schemas.credentialBody), ctx)),
  ),
  route('POST', '/v1/sessions/:id/heartbeat', 'session.heartbeat', async (deps, [id], req, ctx) => {
    const policy = deps.policy.current();
    const caller = await ownSession(deps, id!, req, ctx);
    await parseJsonBody(req, schemas.emptyBody);
    const renewed = await deps.actions.heartbeat(caller.session, policy);
    return { status: 200, body: { lease_expires_at: rfc3339(renewed.leaseExpiresAt) } };
  }),
  route('POST', '/v1/sessions/:id/checkpoints', 'session.checkpoint', async (deps, [id], req, ctx) => {
    const policy = deps.policy.current();
    const caller = await ownSession(deps, id!, req, ctx);
    const { checkpoint } = await deps.actions.checkpoint(caller.session, policy, await parseJsonBody(req, schemas.checkpointBody));
    Object.assign(ctx.audit.extra, { checkpoint_id: checkpoint.checkpointId, seq: checkpoint.seq, state_digest: checkpoint.stateDigest });
    return { status: 201, body: checkpointSummary(checkpoint) };
  }),
  route('POST', '/v1/sessions/:id/suspend', 'session.suspend', async (deps, [id], req, ctx) => {
    const caller = await ownSession(deps, id!, req, ctx);
    return transitioned(await deps.actions.suspend(caller.session, (await parseJsonBody(req, schemas.reasonBody)).reason, ctx));
  }),
  route('POST', '/v1/sessions/:id/close', 'session.close', async (deps, [id], req, ctx) => {
    const caller = await ownSession(deps, id!, req, ctx);
    await parseJsonBody(req, schemas.emptyBody);
    return transitioned(await deps.actions.close(caller.session, ctx));
  }),
  route('POST', '/v1/sessions/:id/revoke', 'session.revoke', async (deps, [id], req, ctx) => {
    requireAdmin(personCaller(deps.policy.current(), req, ctx));
    return transitioned(await deps.actions.revoke(id!, (await parseJsonBody(req, schemas.reasonBody)).reason, ctx));
  }),
];

/** SPEC §7 reads of one session (its record, its ledger): its own token, or an admin. */
export async function readableSession(deps: ControlDeps, sessionId: string, req: IncomingMessage, ctx: ControlContext): Promise<SessionRecord> {
  const caller = await anyCaller(deps, deps.policy.current(), req, ctx);
  if (caller.kind === 'person') requireAdmin(caller);
  requireOwnSession(caller, sessionId);
  const session = await deps.store.sessions.get(sessionId);
  if (!session) throw new GatewayError('session_not_found');
  return session;
}

async function ownSession(deps: ControlDeps, sessionId: string, req: IncomingMessage, ctx: ControlContext) {
  const caller = await sessionCaller(deps, deps.policy.current(), req, ctx);
  requireOwnSession(caller, sessionId);
  return caller;
}

/** create (201) and token refresh (200): the session with its new token. */
function issued(deps: ControlDeps, status: 200 | 201, result: IssuedSession): ControlReply {
  return { status, body: tokenView(result.session, result.token, deps.publicUrl()) };
}

function resumed(deps: ControlDeps, result: ResumedSession): ControlReply {
  return {
    status: 200,
    body: {
      ...tokenView(result.session, result.token, deps.publicUrl()),
      previous_epoch: result.previousEpoch,
      checkpoint: checkpointWithState(result.checkpoint),
      ledger: ledgerSummaryView(result.ledger),
      approvals: result.approvals.map(agentApprovalView),
    },
  };
}

function transitioned(result: TransitionedSession): ControlReply {
  return { status: 200, body: sessionView(result.session, result.checkpoint) };
}
