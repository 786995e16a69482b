import type { IncomingMessage } from 'node:http';
import type { AuditEventName, Disposition } from '../audit/types.js';

/** What a control-plane action has learned about itself, filled in as it goes and audited once at the
 *  end by the router, whatever the outcome (SPEC §13: every control-plane action). */
export interface ControlAuditDraft {
  event: AuditEventName | null;
  actor?: { id: string; type: 'agent' | 'person' };
  sessionId?: string;
  tokenJti?: string;
  epoch?: number;
  taskId?: string;
  disposition?: Disposition;
  extra: Record<string, unknown>;
}

export interface ControlContext {
  readonly requestId: string;
  readonly req: IncomingMessage;
  readonly startedAt: number;
  readonly audit: ControlAuditDraft;
}

export interface ControlReply {
  readonly status: number;
  readonly body: unknown;
}
