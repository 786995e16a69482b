// What every record about one exchange shares, built once per request by the adapter that serves it
// (pipeline/request-audit.ts for a data-plane call) and completed by whoever knows the event: tool.call,
// approval.*, ledger.*. Keeping one builder keeps those records from drifting apart (request id, actor,
// session, epoch, trace id, …).
import type { AuditEvent } from './types.js';

export type AuditEnvelope = Pick<
  AuditEvent,
  'time' | 'requestId' | 'actor' | 'tokenJti' | 'sessionId' | 'epoch' | 'taskId' | 'policyRevision' | 'method' | 'path' | 'srcIp' | 'traceId'
>;

/** The gateway acting on its own (start-up recovery, sweeps, expiries, policy loads): SPEC §13 actor. */
export const SYSTEM_ACTOR: NonNullable<AuditEvent['actor']> = Object.freeze({ id: 'epochgate', type: 'system' });

/** The same exchange, as the gateway's own act (an approval expiring under a call): no agent, no token. */
export function systemEnvelope(envelope: AuditEnvelope): AuditEnvelope {
  const { actor: _agent, tokenJti: _jti, ...rest } = envelope;
  return { ...rest, actor: SYSTEM_ACTOR };
}
