import type { ErrorCode } from '../errors/catalogue.js';
import type { AuditEvent, AuditEventName, Disposition } from './types.js';

/** What an action has learned about itself, filled in as it goes and written once at the end by the adapter
 *  that runs it, whatever the outcome (SPEC §13: every control-plane action). A domain operation that fails
 *  half-way has still named the session, epoch or approval it found: that is why it writes here as it goes
 *  rather than returning the facts only with a success. */
export interface AuditDraft {
  event: AuditEventName | null;
  actor?: { id: string; type: 'agent' | 'person' };
  sessionId?: string;
  tokenJti?: string;
  epoch?: number;
  taskId?: string;
  disposition?: Disposition;
  extra: Record<string, unknown>;
}

/** The part of an adapter's request a domain operation may see: which request it serves (for the records
 *  it writes itself, such as approval.expire) and the draft of the adapter's own record. */
export interface ActionTrail {
  readonly requestId: string | undefined;
  readonly audit: AuditDraft;
}

/** How the request that ran an action went: what its adapter knows once it answered. */
export interface ActionExchange {
  readonly time: number;
  readonly requestId: string;
  readonly status: 'ok' | ErrorCode;
  readonly policyRevision: string;
  readonly method: string;
  readonly path: string;
  readonly httpStatus: number;
  readonly durationMs: number;
  readonly srcIp: string;
}

/** The one record of an action (the control API's and the console's alike); null for a read, which writes none. */
export function actionRecord(draft: AuditDraft, exchange: ActionExchange): AuditEvent | null {
  if (draft.event === null) return null;
  return {
    event: draft.event,
    ...exchange,
    disposition: draft.disposition ?? (exchange.status === 'ok' ? 'allowed' : 'blocked'),
    ...(draft.actor ? { actor: draft.actor } : {}),
    ...(draft.sessionId ? { sessionId: draft.sessionId } : {}),
    ...(draft.tokenJti ? { tokenJti: draft.tokenJti } : {}),
    ...(draft.epoch !== undefined ? { epoch: draft.epoch } : {}),
    ...(draft.taskId ? { taskId: draft.taskId } : {}),
    extra: draft.extra,
  };
}
