// One typed context per data-plane request. Each stage owns one field; later stages read earlier fields
// through need(), which fails loudly (internal_error) if the stage order in stages.ts is ever wrong.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ToolConfig } from '../config/types.js';
import type { AgentDef, Decision, PolicySnapshot } from '../policy/types.js';
import type { VerifiedToken } from '../sessions/token-verify.js';
import type { SessionRecord } from '../store/types.js';
import type { AuditEvent } from '../audit/types.js';
import type { ErrorCode } from '../errors/catalogue.js';
import type { LedgerReservation } from '../ledger/reservation.js';
import type { McpMessage } from '../mcp/classify.js';
import type { LiveCall } from '../live/live-call.js';
import type { ForwardOutcome } from '../upstream/forward.js';

export interface RouteInfo {
  readonly tool: ToolConfig;
  /** Decoded, validated segments below the tool. */
  readonly segments: readonly string[];
  /** Normalised path below the tool ("/" when empty). */
  readonly path: string;
  /** Raw query including "?", or "". */
  readonly query: string;
  /** Token from the /s/{token}/ path form; never logged. */
  readonly pathToken: string | undefined;
  /** Path as audited: never contains a token. */
  readonly auditPath: string;
}

export interface ActionInfo {
  readonly method: string;
  readonly path: string;
  /** Buffered request body (bounded by the tool's max_body_bytes); null when there is none. */
  readonly body: Buffer | null;
  readonly bodySha256: string | undefined;
  /** MCP tools/call params.name, when the message is one. */
  readonly mcpTool: string | undefined;
}

/** What the forward stage learnt about the upstream exchange, for the audit record and metrics. */
export interface ForwardedCallSummary {
  readonly status: number;
  readonly upstreamMs: number;
  /** How the relay ended (upstream/forward.ts): a client disconnect and an upstream failure are audited apart. */
  readonly outcome: ForwardOutcome;
}

export interface RequestContext {
  readonly requestId: string;
  readonly startedAt: number;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The one policy revision this request is evaluated against (SPEC §3 reload). */
  readonly policy: PolicySnapshot;
  /** trace-id of an incoming traceparent (SPEC §13: trace.uid only when one came in). */
  readonly traceId: string | undefined;
  route?: RouteInfo;
  token?: VerifiedToken;
  session?: SessionRecord;
  agent?: AgentDef;
  action?: ActionInfo;
  decision?: Decision;
  forwarded?: ForwardedCallSummary;
  /** Lifecycle records (approval.request, ledger.replay, …) written alongside the tool.call record. */
  readonly sideEvents: AuditEvent[];
  /** Extra members for the tool.call record's unmapped.epochgate. */
  readonly auditExtra: Record<string, unknown>;
  /** Run by the runner after the request ends, whatever the outcome (e.g. settling a ledger entry).
   *  Awaited in order; a failure is logged, never thrown to the client (the reply is already decided). */
  readonly finishers: ((status: 'ok' | ErrorCode) => Promise<void>)[];
  /** Writes the request's audit records; called once, synchronously, before the response is ended. */
  readonly beforeEnd: () => void;
  /** The ledger entry reserved for this call (SPEC §10), set by the ledger stage; forward settles it. */
  ledger?: LedgerReservation;
  /** Set by a stage that answered the request itself (a ledger replay): the stages after it are skipped. */
  answered?: 'ledger';
  /** This call in the live-call registry (SPEC §8), from the fence stage on; released by a finisher. */
  live?: LiveCall;
  /** The parsed JSON-RPC message of an MCP POST (set by classify); its `id` addresses MCP-form replies (SPEC §11). */
  mcpMessage?: McpMessage;
  /** The Mcp-Session-Id the request presented, and whether it is already bound to this session (SPEC §11). */
  mcpSession?: { readonly id: string; readonly boundHere: boolean };
  /** approval_required goes to this MCP client as the URL-elicitation error (set by the approval stage). */
  urlElicitation?: boolean;
}

type Staged = 'route' | 'token' | 'session' | 'agent' | 'action' | 'decision';

export function need<K extends Staged>(ctx: RequestContext, field: K): NonNullable<RequestContext[K]> {
  const value = ctx[field];
  if (value === undefined) throw new Error(`pipeline order bug: ${field} read before it was set`);
  return value as NonNullable<RequestContext[K]>;
}
