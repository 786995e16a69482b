// Control-plane ledger routes (SPEC §7, §10): list a session's ledger (the session's own token, or an
// admin), and an admin's resolution of an entry whose outcome is unknown. Thin: authenticate → validate →
// call the store → respond; the resolution is audited as ledger.resolve by the router.
import { z } from 'zod';
import { GatewayError } from '../errors/gateway-error.js';
import { ledgerEntryView } from '../ledger/ledger-views.js';
import { anyCaller, personCaller, requireAdmin, requireOwnSession } from './caller.js';
import type { ControlContext } from './control-context.js';
import { parseJsonBody } from './json-body.js';
import { route, type ControlDeps, type ControlRoute } from './route.js';

const resolveBody = z.object({ outcome: z.enum(['retry', 'done']) }).strict();


export const LEDGER_ROUTES: readonly ControlRoute[] = [
  route('GET', '/v1/sessions/:id/ledger', null, async (deps, [id], req, ctx) => {
    const caller = await anyCaller(deps, deps.policy.current(), req, ctx);
    if (caller.kind === 'person') requireAdmin(caller);
    requireOwnSession(caller, id!);
    await existingSession(deps, id!, ctx);
    const entries = await deps.store.ledger.list(id!, deps.clock.now());
    return { status: 200, body: { entries: entries.map(ledgerEntryView) } };
  }),
  route('POST', '/v1/sessions/:id/ledger/:id/resolve', 'ledger.resolve', async (deps, [id, entryId], req, ctx) => {
    ctx.audit.sessionId = id!;
    ctx.audit.extra.entry_id = entryId;
    const admin = requireAdmin(personCaller(deps.policy.current(), req, ctx));
    const { outcome } = await parseJsonBody(req, resolveBody);
    ctx.audit.extra.outcome = outcome;
    await existingSession(deps, id!, ctx);
    const result = await deps.store.ledger.resolve(id!, entryId!, outcome, admin.id, deps.clock.now());
    if (!result.ok) {
      if (!result.current) throw new GatewayError('route_not_found', { detail: 'No such ledger entry in this session' });
      // SPEC §10 resolves unknown outcomes only: a recorded or in-flight call is not the admin's to rewrite.
      throw new GatewayError('invalid_request', {
        detail: `The entry is ${result.current.state}; only an unknown entry (or a retry not yet used) can be resolved`,
        fields: { errors: [{ path: 'outcome', message: `entry state is ${result.current.state}` }], entry_id: result.current.entryId },
      });
    }
    ctx.audit.extra.previous_state = result.previous;
    ctx.audit.epoch = result.entry.epoch;
    return { status: 200, body: ledgerEntryView(result.entry) };
  }),
];

async function existingSession(deps: ControlDeps, sessionId: string, ctx: ControlContext): Promise<void> {
  const session = await deps.store.getSession(sessionId);
  if (!session) throw new GatewayError('session_not_found');
  ctx.audit.taskId = session.taskId;
}
