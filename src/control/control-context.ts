import type { IncomingMessage } from 'node:http';
import type { ActionTrail } from '../audit/audit-draft.js';

/** One control-plane request: the trail the domain operations fill, plus what only the adapter reads. */
export interface ControlContext extends ActionTrail {
  readonly requestId: string;
  readonly req: IncomingMessage;
  readonly startedAt: number;
}

export interface ControlReply {
  readonly status: number;
  readonly body: unknown;
}
