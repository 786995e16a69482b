import type { AuditEventName, Disposition } from './types.js';

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
