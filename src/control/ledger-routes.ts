// Control-plane ledger routes (SPEC §7, §10): list a session's ledger (the session's own token, or an
// admin), and an admin's resolution of an entry whose outcome is unknown. Thin: authenticate → validate →
// call the ledger operation → respond; the resolution is audited as ledger.resolve by the router.
import { z } from 'zod';
import { resolveLedgerEntry } from '../ledger/resolve.js';
import { personCaller, requireAdmin } from './caller.js';
import { parseJsonBody } from './json-body.js';
import { ledgerEntryView } from './ledger-views.js';
import { route, type ControlRoute } from './route.js';
import { readableSession } from './session-routes.js';

const resolveBody = z.object({ outcome: z.enum(['retry', 'done']) }).strict();

export const LEDGER_ROUTES: readonly ControlRoute[] = [
  // A read: direct store lookups, since a domain function would only wrap them.
  route('GET', '/v1/sessions/:id/ledger', null, async (deps, [id], req, ctx) => {
    const session = await readableSession(deps, id!, req, ctx);
    ctx.audit.taskId = session.taskId;
    const entries = await deps.store.ledger.list(id!, deps.clock.now());
    return { status: 200, body: { entries: entries.map(ledgerEntryView) } };
  }),
  route('POST', '/v1/sessions/:id/ledger/:id/resolve', 'ledger.resolve', async (deps, [id, entryId], req, ctx) => {
    ctx.audit.sessionId = id!;
    ctx.audit.extra.entry_id = entryId;
    const admin = requireAdmin(personCaller(deps.policy.current(), req, ctx));
    const { outcome } = await parseJsonBody(req, resolveBody);
    ctx.audit.extra.outcome = outcome;
    const request = { sessionId: id!, entryId: entryId!, outcome, by: admin.id, now: deps.clock.now() };
    const { entry } = await resolveLedgerEntry(deps.store, request, ctx);
    return { status: 200, body: ledgerEntryView(entry) };
  }),
];
