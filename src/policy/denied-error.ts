import { GatewayError } from '../errors/gateway-error.js';
import type { Decision } from './types.js';

/** SPEC §12 policy_denied for a deny decision: `rule_id` when a rule decided, none for the default deny. */
export function deniedError(decision: Decision): GatewayError {
  return new GatewayError('policy_denied', {
    detail: decision.rule ? `Denied by rule ${decision.rule.id}` : 'No policy rule allows this call',
    fields: decision.rule ? { rule_id: decision.rule.id } : {},
  });
}
