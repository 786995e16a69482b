// Control-plane approval routes (SPEC §7, §9). Only people act here: a session token is refused with 403
// forbidden whatever its state (SPEC §4: an agent credential can never approve anything), and what a
// person may see or decide is settled by ApprovalService against the current policy.
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { GatewayError } from '../errors/gateway-error.js';
import { bearerToken } from '../http/authorization.js';
import { APPROVAL_STATES } from '../store/approval-types.js';
import { APPROVAL_DISPOSITION } from '../approvals/approval-events.js';
import { approvalView } from './approval-views.js';
import { personCaller, presentsSessionToken } from './caller.js';
import type { ControlContext, ControlReply } from './control-context.js';
import { parseJsonBody, validate } from './json-body.js';
import { route, type ControlDeps, type ControlRoute } from './route.js';
import { queryParams } from '../http/query-params.js';

const approvalListQuery = z
  .object({
    state: z.enum(APPROVAL_STATES).optional(),
    session_id: z.string().min(1).max(200).optional(),
  })
  .strict();

const decisionBody = z.object({ comment: z.string().min(1).max(1000).optional() }).strict();


export const APPROVAL_ROUTES: readonly ControlRoute[] = [
  route('GET', '/v1/approvals', null, async (deps, _p, req, ctx) => {
    const person = await approver(deps, req, ctx);
    const query = validate(approvalListQuery, queryParams(req.url));
    const approvals = await deps.approvals.list(person, { state: query.state, sessionId: query.session_id });
    return { status: 200, body: { approvals: approvals.map(approvalView) } };
  }),
  route('GET', '/v1/approvals/:id', null, async (deps, [id], req, ctx) => ({
    status: 200,
    body: approvalView(await deps.approvals.get(await approver(deps, req, ctx), id!)),
  })),
  route('POST', '/v1/approvals/:id/approve', 'approval.approve', (deps, [id], req, ctx) => decide(deps, id!, 'approved', req, ctx)),
  route('POST', '/v1/approvals/:id/deny', 'approval.deny', (deps, [id], req, ctx) => decide(deps, id!, 'denied', req, ctx)),
];

async function decide(deps: ControlDeps, id: string, state: 'approved' | 'denied', req: IncomingMessage, ctx: ControlContext): Promise<ControlReply> {
  const person = await approver(deps, req, ctx);
  const { comment } = await parseJsonBody(req, decisionBody);
  const { approval } = await deps.approvals.decide(person, id, state, comment ?? null, ctx);
  ctx.audit.disposition = APPROVAL_DISPOSITION[state === 'approved' ? 'approval.approve' : 'approval.deny'];
  return { status: 200, body: approvalView(approval) };
}

/** The calling person. A session token (compact JWS) is an agent: forbidden, even when valid and current. */
async function approver(deps: ControlDeps, req: IncomingMessage, ctx: ControlContext) {
  if (presentsSessionToken(req)) {
    try {
      // Only to name the agent in the audit record; the answer is forbidden either way.
      const token = await deps.verifier.verify(bearerToken(req.headers.authorization));
      ctx.audit.actor = { id: token.agentId, type: 'agent' };
      ctx.audit.sessionId = token.sessionId;
      ctx.audit.tokenJti = token.jti;
    } catch {
      // An invalid token is no more entitled than a valid one.
    }
    throw new GatewayError('forbidden', { detail: 'Agents cannot read or decide approvals; a person must' });
  }
  return personCaller(deps.policy.current(), req, ctx).person;
}

