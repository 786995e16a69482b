// The console's route table. Each action validates its form, checks the CSRF token and calls the same
// domain operation as the control API route of the same name (ApprovalService.decide for approve/deny,
// SessionActions.revoke for revoke), so roles, separation of duties and audit records are the API's.
import { z } from 'zod';
import { APPROVAL_DISPOSITION } from '../approvals/approval-events.js';
import { GatewayError } from '../errors/gateway-error.js';
import { SESSION_STATES } from '../store/types.js';
import { approvalPageData, inboxItems } from './approval-data.js';
import { approvalHref, approvalPage, inboxPage } from './approval-pages.js';
import { ASSETS } from './assets.js';
import { actingPerson, requireAdminPerson, signedInPerson } from './console-access.js';
import { consoleRoute, page, redirect, type ConsoleContext, type ConsoleDeps, type ConsoleRoute } from './console-deps.js';
import { decidableRules } from '../approvals/approval-service.js';
import { parseForm } from './form-body.js';
import { openInboxStream } from './inbox-stream.js';
import { sessionPageData } from './session-data.js';
import { sessionHref, sessionListPage, sessionPage } from './session-pages.js';
import { SIGN_IN_ROUTES } from './sign-in-routes.js';
import { queryParams } from '../http/query-params.js';

const decisionForm = z.object({ csrf: z.string().max(200).optional(), comment: z.string().max(1000).optional() }).strict();
const revokeForm = z.object({ csrf: z.string().max(200).optional(), reason: z.string().min(1).max(500) }).strict();
const sessionFilter = z
  .object({
    state: z.union([z.enum(SESSION_STATES), z.literal('')]).optional(),
    agent_id: z.string().max(200).optional(),
    task_id: z.string().max(200).optional(),
  })
  .strict();

const toSignIn = redirect('/console/sign-in');

export const CONSOLE_ROUTES: readonly ConsoleRoute[] = [
  consoleRoute('GET', '', null, async () => redirect('/console/')),
  ...SIGN_IN_ROUTES,
  consoleRoute('GET', '/assets/(console\\.js|console\\.css)', null, async (_d, [name]) => ({ kind: 'asset', ...ASSETS[name as keyof typeof ASSETS] })),
  consoleRoute('GET', '/', null, async (deps, _p, ctx) => {
    const signedIn = await signedInPerson(deps, ctx);
    if (signedIn === null) return toSignIn;
    const decides = decidableRules(deps.policy.current(), signedIn.person).length > 0;
    return page(200, inboxPage(signedIn, await inboxItems(deps, signedIn.person), decides));
  }),
  consoleRoute('GET', '/events', null, async (deps, _p, ctx) => {
    const signedIn = await signedInPerson(deps, ctx);
    return signedIn === null ? toSignIn : openInboxStream(deps, ctx, signedIn);
  }),
  consoleRoute('GET', '/approvals/:id', null, async (deps, [id], ctx) => {
    const signedIn = await signedInPerson(deps, ctx);
    if (signedIn === null) return toSignIn;
    return page(200, approvalPage(signedIn, await approvalPageData(deps, signedIn.person, id!)));
  }),
  consoleRoute('POST', '/approvals/:id/approve', 'approval.approve', (deps, [id], ctx) => decide(deps, id!, 'approved', ctx)),
  consoleRoute('POST', '/approvals/:id/deny', 'approval.deny', (deps, [id], ctx) => decide(deps, id!, 'denied', ctx)),
  consoleRoute('GET', '/sessions', null, async (deps, _p, ctx) => {
    const signedIn = await signedInPerson(deps, ctx);
    if (signedIn === null) return toSignIn;
    requireAdminPerson(signedIn.person);
    const filter = parseQuery(ctx);
    const sessions = await deps.store.sessions.list({
      ...(filter.state ? { state: filter.state } : {}),
      ...(filter.agent_id ? { agentId: filter.agent_id } : {}),
      ...(filter.task_id ? { taskId: filter.task_id } : {}),
      limit: 1000,
    });
    return page(200, sessionListPage(signedIn, sessions, filter));
  }),
  consoleRoute('GET', '/sessions/:id', null, async (deps, [id], ctx) => {
    const signedIn = await signedInPerson(deps, ctx);
    if (signedIn === null) return toSignIn;
    requireAdminPerson(signedIn.person);
    return page(200, sessionPage(signedIn, await sessionPageData(deps, signedIn.person, id!)));
  }),
  consoleRoute('POST', '/sessions/:id/revoke', 'session.revoke', async (deps, [id], ctx) => {
    ctx.audit.sessionId = id!;
    const form = await parseForm(ctx.req, revokeForm);
    const signedIn = await actingPerson(deps, ctx, form);
    requireAdminPerson(signedIn.person);
    await deps.actions.revoke(id!, form.reason, ctx);
    return redirect(sessionHref(id!));
  }),
];

async function decide(deps: ConsoleDeps, id: string, state: 'approved' | 'denied', ctx: ConsoleContext) {
  ctx.audit.extra.approval_id = id;
  const form = await parseForm(ctx.req, decisionForm);
  const signedIn = await actingPerson(deps, ctx, form);
  const comment = form.comment === undefined || form.comment.trim() === '' ? null : form.comment;
  await deps.approvals.decide(signedIn.person, id, state, comment, ctx);
  ctx.audit.disposition = APPROVAL_DISPOSITION[state === 'approved' ? 'approval.approve' : 'approval.deny'];
  return redirect(approvalHref(id));
}

function parseQuery(ctx: ConsoleContext): z.infer<typeof sessionFilter> {
  const params = queryParams(ctx.req.url);
  const parsed = sessionFilter.safeParse(params);
  if (!parsed.success) throw new GatewayError('invalid_request', { detail: 'Unknown filter or value (state, agent_id, task_id)' });
  return parsed.data;
}
