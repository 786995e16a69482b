// What the console adapter needs, and the shape of its routes. The console is the fourth adapter over the
// domain (next to the control API, the data plane and the CLI): every action it offers is the same domain
// operation the control API calls (ApprovalService.decide, SessionActions.revoke, the same reads), with
// the same roles and the same audit records.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ApprovalService } from '../approvals/approval-service.js';
import type { ApprovalSignal } from '../approvals/approval-signal.js';
import type { ActionTrail } from '../audit/audit-draft.js';
import type { AuditEventName, AuditStream } from '../audit/types.js';
import type { GatewayMetrics } from '../metrics/metrics.js';
import type { PolicyHolder } from '../policy/holder.js';
import type { SessionActions } from '../sessions/session-actions.js';
import type { Store } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import type { ConsoleAuth, SignedIn } from './console-auth.js';
import type { SafeHtml } from './html.js';
import type { InboxStreams } from './inbox-stream.js';
import type { GatewayError } from '../errors/gateway-error.js';

export interface ConsoleDeps {
  readonly store: Store;
  readonly policy: PolicyHolder;
  readonly approvals: ApprovalService;
  readonly actions: SessionActions;
  readonly audit: AuditStream;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly signal: ApprovalSignal;
  readonly auth: ConsoleAuth;
  readonly streams: InboxStreams;
  /** The origin of console.public_url when it is configured: the only Origin a console POST may carry then. */
  readonly fixedOrigin?: string;
  /** Where people reach the console (no trailing slash); https makes the cookies Secure. */
  readonly publicUrl: () => string;
  /** This replica's audit file, read back for a session's recent records; absent when the stream is not a
   *  file the gateway opened itself (stdout, or a log injected by an embedding program). */
  readonly auditFile?: string;
  /** How often a live inbox re-reads the store, to see what other replicas did (default 1000 ms). */
  readonly pollMs?: number;
}

/** One console request: the audit draft the domain operations fill, plus what only the adapter reads. */
export interface ConsoleContext extends ActionTrail {
  readonly requestId: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly startedAt: number;
  /** The signed-in person, once the route has resolved them. */
  signedIn: SignedIn | null;
  /** A refusal the route answered with a page of its own (a failed sign-in): audited as that code. */
  failure?: GatewayError;
}

export type ConsoleReply =
  | { readonly kind: 'page'; readonly status: number; readonly body: SafeHtml; readonly cookies?: readonly string[]; readonly retryAfterSeconds?: number }
  | { readonly kind: 'redirect'; readonly location: string; readonly cookies?: readonly string[] }
  | { readonly kind: 'asset'; readonly body: string; readonly contentType: string }
  /** The route wrote the response itself (the live inbox's event stream). */
  | { readonly kind: 'streamed' };

export interface ConsoleRoute {
  readonly method: 'GET' | 'POST';
  readonly pattern: RegExp;
  /** Audit event of this action; null for reads. */
  readonly event: AuditEventName | null;
  handle(deps: ConsoleDeps, params: readonly string[], ctx: ConsoleContext): Promise<ConsoleReply>;
}

const ID = '([A-Za-z0-9_-]{1,100})';
export const consoleRoute = (method: ConsoleRoute['method'], path: string, event: AuditEventName | null, handle: ConsoleRoute['handle']): ConsoleRoute => ({
  method,
  pattern: new RegExp(`^/console${path.replaceAll(':id', ID)}$`),
  event,
  handle,
});

export const page = (status: number, body: SafeHtml, cookies?: readonly string[]): ConsoleReply => ({ kind: 'page', status, body, ...(cookies ? { cookies } : {}) });
export const redirect = (location: string, cookies?: readonly string[]): ConsoleReply => ({ kind: 'redirect', location, ...(cookies ? { cookies } : {}) });

/** Cookies are Secure when people reach the console over https. */
export const secureCookies = (deps: ConsoleDeps): boolean => deps.publicUrl().startsWith('https:');
