// Approval: a require_approval decision never lets the call through without a consumed approval.
// (Approval records arrive with the approvals module; until then the answer is always approval_required.)
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';

export function approvalStage(_deps: PipelineDeps, ctx: RequestContext): void {
  const decision = ctx.decision;
  if (decision?.effect !== 'require_approval') return;
  throw new GatewayError('approval_required', {
    detail: `Rule ${decision.rule?.id ?? ''} requires a human approval`,
    fields: { rule_id: decision.rule?.id ?? null },
  });
}
