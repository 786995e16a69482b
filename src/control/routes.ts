// The control-plane route table (SPEC §7). Handlers stay thin: authenticate → validate → call a module.
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/gateway-error.js';
import { sessionView } from '../sessions/views.js';
import { rfc3339 } from '../util/clock.js';
import { anyCaller, personCaller, requireAdmin, requireOwnSession, sessionCaller } from './caller.js';
import type { ControlContext } from './control-context.js';
import { parseJsonBody, validate } from './json-body.js';
import * as schemas from './schemas.js';
import { APPROVAL_ROUTES } from './approval-routes.js';
import { route, type ControlDeps, type ControlRoute } from './route.js';
import { LEDGER_ROUTES } from './ledger-routes.js';

export const CONTROL_ROUTES: readonly ControlRoute[] = [
  route('GET', '/\\.well-known/jwks\\.json', null, async (deps) => ({ status: 200, body: deps.keys.jwks() })),
  route('GET', '/metrics', null, async (deps) => ({ raw: await deps.metrics.registry.metrics(), contentType: deps.metrics.registry.contentType })),
  route('POST', '/v1/sessions', 'session.create', async (deps, _p, req, ctx) =>
    deps.sessions.create(await parseJsonBody(req, schemas.createSessionBody), ctx),
  ),
  route('GET', '/v1/sessions', null, async (deps, _p, req, ctx) => {
    requireAdmin(personCaller(deps.policy.current(), req, ctx));
    const query = validate(schemas.sessionListQuery, Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams));
    const sessions = await deps.store.listSessions({
      ...(query.state ? { state: query.state } : {}),
      ...(query.agent_id ? { agentId: query.agent_id } : {}),
      ...(query.task_id ? { taskId: query.task_id } : {}),
      limit: 1000,
    });
    return { status: 200, body: { sessions: sessions.map((s) => sessionView(s)) } };
  }),
  route('GET', '/v1/sessions/:id', null, async (deps, [id], req, ctx) => {
    const caller = await anyCaller(deps, deps.policy.current(), req, ctx);
    if (caller.kind === 'person') requireAdmin(caller);
    requireOwnSession(caller, id!);
    const session = await deps.store.getSession(id!);
    if (!session) throw new GatewayError('session_not_found');
    return { status: 200, body: sessionView(session, await deps.store.latestCheckpoint(id!)) };
  }),
  route('POST', '/v1/sessions/:id/resume', 'session.resume', async (deps, [id], req, ctx) =>
    deps.sessions.resume(id!, await parseJsonBody(req, schemas.resumeBody), ctx),
  ),
  route('POST', '/v1/sessions/:id/token', 'session.token', async (deps, [id], req, ctx) =>
    deps.sessions.refreshToken(id!, await parseJsonBody(req, schemas.credentialBody), ctx),
  ),
  route('POST', '/v1/sessions/:id/heartbeat', 'session.heartbeat', async (deps, [id], req, ctx) => {
    const policy = deps.policy.current();
    const caller = await ownSession(deps, id!, req, ctx);
    await parseJsonBody(req, schemas.emptyBody);
    return deps.actions.heartbeat(caller.session, policy, ctx);
  }),
  route('POST', '/v1/sessions/:id/checkpoints', 'session.checkpoint', async (deps, [id], req, ctx) => {
    const policy = deps.policy.current();
    const caller = await ownSession(deps, id!, req, ctx);
    return deps.actions.checkpoint(caller.session, policy, await parseJsonBody(req, schemas.checkpointBody), ctx);
  }),
  route('POST', '/v1/sessions/:id/suspend', 'session.suspend', async (deps, [id], req, ctx) => {
    const caller = await ownSession(deps, id!, req, ctx);
    return deps.actions.suspend(caller.session, (await parseJsonBody(req, schemas.reasonBody)).reason, ctx);
  }),
  route('POST', '/v1/sessions/:id/close', 'session.close', async (deps, [id], req, ctx) => {
    const caller = await ownSession(deps, id!, req, ctx);
    await parseJsonBody(req, schemas.emptyBody);
    return deps.actions.close(caller.session, ctx);
  }),
  route('POST', '/v1/sessions/:id/revoke', 'session.revoke', async (deps, [id], req, ctx) => {
    requireAdmin(personCaller(deps.policy.current(), req, ctx));
    return deps.actions.revoke(id!, (await parseJsonBody(req, schemas.reasonBody)).reason, ctx);
  }),
  route('GET', '/v1/policy', null, async (deps, _p, req, ctx) => {
    requireAdmin(personCaller(deps.policy.current(), req, ctx));
    const status = deps.policy.status();
    return {
      status: 200,
      body: {
        revision: status.revision,
        loaded_at: rfc3339(status.loadedAt),
        files: status.files,
        last_error: status.lastError ? { message: status.lastError.message, at: rfc3339(status.lastError.at) } : null,
      },
    };
  }),
  // SPEC §7 approvals (people only).
  ...APPROVAL_ROUTES,
  // SPEC §7, §10 the session's ledger and the admin's resolution of unknown outcomes.
  ...LEDGER_ROUTES,
];

async function ownSession(deps: ControlDeps, sessionId: string, req: IncomingMessage, ctx: ControlContext) {
  const caller = await sessionCaller(deps, deps.policy.current(), req, ctx);
  requireOwnSession(caller, sessionId);
  return caller;
}
