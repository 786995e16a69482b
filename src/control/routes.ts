// The control-plane route table (SPEC §7). Handlers stay thin: authenticate → validate → call a domain
// operation → map its result to status and body.
import { rfc3339 } from '../util/clock.js';
import { APPROVAL_ROUTES } from './approval-routes.js';
import { personCaller, requireAdmin } from './caller.js';
import { KEY_ROUTES } from './key-routes.js';
import { LEDGER_ROUTES } from './ledger-routes.js';
import { NOTIFICATION_ROUTES } from './notification-routes.js';
import { route, type ControlRoute } from './route.js';
import { SESSION_ROUTES } from './session-routes.js';

export const CONTROL_ROUTES: readonly ControlRoute[] = [
  // SPEC §17: every published, unretired key of every replica (served from memory for at most a second).
  route('GET', '/\\.well-known/jwks\\.json', null, async (deps) => ({ status: 200, body: await deps.keys.jwks() })),
  route('GET', '/metrics', null, async (deps) => ({ raw: await deps.metrics.registry.metrics(), contentType: deps.metrics.registry.contentType })),
  // SPEC §7 sessions: create, resume, token, heartbeat, checkpoints, suspend, close, revoke, reads.
  ...SESSION_ROUTES,
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
  // SPEC §7, §17 an admin retires a published signing key.
  ...KEY_ROUTES,
  // SPEC §7, §18 the webhook outbox (admins).
  ...NOTIFICATION_ROUTES,
];
