// The shape of a control-plane route and the helper that builds one; shared by every route table
// (sessions, approvals, ledger) without the tables importing each other.
import type { IncomingMessage } from 'node:http';
import type { ApprovalService } from '../approvals/approval-service.js';
import type { AuditEventName } from '../audit/types.js';
import type { GatewayMetrics } from '../metrics/metrics.js';
import type { PolicyHolder } from '../policy/holder.js';
import type { SessionActions } from '../sessions/session-actions.js';
import type { SessionService } from '../sessions/session-service.js';
import type { KeyRing } from '../sessions/key-ring.js';
import type { Store } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import type { CallerDeps } from './caller.js';
import type { ControlContext, ControlReply } from './control-context.js';

export interface ControlDeps extends CallerDeps {
  readonly store: Store;
  readonly policy: PolicyHolder;
  readonly sessions: SessionService;
  readonly actions: SessionActions;
  /** This replica's signing keys and every published one (SPEC §17). */
  readonly keys: KeyRing;
  readonly metrics: GatewayMetrics;
  readonly approvals: ApprovalService;
  readonly clock: Clock;
  /** SPEC §7 tool_urls: the configured public_url, else the data listener's URL once it is bound. */
  readonly publicUrl: () => string;
}

export type RawReply = { readonly raw: string; readonly contentType: string };

export interface ControlRoute {
  readonly method: 'GET' | 'POST';
  readonly pattern: RegExp;
  /** Audit event for this action; null for reads (see README: reads are not audited). */
  readonly event: AuditEventName | null;
  handle(deps: ControlDeps, params: string[], req: IncomingMessage, ctx: ControlContext): Promise<ControlReply | RawReply>;
}

// Path parameters: ids we mint are URL-safe base64 with a prefix.
const ID = '([A-Za-z0-9_-]{1,100})';
/** `path` is a regular expression source; `:id` stands for one minted id. */
export const route = (method: ControlRoute['method'], path: string, event: AuditEventName | null, handle: ControlRoute['handle']): ControlRoute => ({
  method,
  pattern: new RegExp(`^${path.replaceAll(':id', ID)}$`),
  event,
  handle,
});
