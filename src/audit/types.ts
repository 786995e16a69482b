// What the gateway hands to the audit log. audit/ocsf-record.ts turns it into one OCSF 1.9.0 API Activity
// line (SPEC §13). Nothing here may hold a token, secret, assertion, injected header value or body:
// callers pass ids, digests and codes only.
import type { ErrorCode } from '../errors/catalogue.js';

export type AuditEventName =
  | 'tool.call'
  | 'session.create'
  | 'session.resume'
  | 'session.token'
  | 'session.checkpoint'
  | 'session.suspend'
  | 'session.close'
  | 'session.revoke'
  | 'session.lease_expired'
  | 'session.heartbeat'
  | 'approval.request'
  | 'approval.approve'
  | 'approval.deny'
  | 'approval.consume'
  | 'approval.expire'
  | 'ledger.replay'
  | 'ledger.unknown'
  | 'ledger.resolve'
  | 'policy.load'
  | 'policy.reload_failed'
  | 'key.load'
  | 'key.reload_failed'
  | 'key.retire'
  | 'gateway.start'
  | 'gateway.stop'
  | 'audit.recovered'
  | 'audit.anchor'
  | 'console.sign_in'
  | 'console.sign_out';

export type Disposition = 'allowed' | 'blocked' | 'approved' | 'delayed' | 'rejected';

export interface AuditEvent {
  readonly event: AuditEventName;
  /** ms since epoch */
  readonly time: number;
  /** X-Request-Id of the request the event belongs to (OCSF correlation_uid); absent for background events. */
  readonly requestId?: string;
  /** 'ok' or the catalogue code that decided the outcome. */
  /** 'ok', the catalogue code that decided the outcome, policy_invalid (a refused policy revision) or
   *  keys_invalid (a refused signing key file): operator events with no client-visible error. */
  readonly status: 'ok' | ErrorCode | 'policy_invalid' | 'keys_invalid';
  readonly detail?: string;
  readonly disposition?: Disposition;
  readonly actor?: { readonly id: string; readonly type: 'agent' | 'person' | 'system' };
  readonly sessionId?: string;
  /** jti of the session token used (never the token). */
  readonly tokenJti?: string;
  readonly epoch?: number;
  readonly taskId?: string;
  /** Rules that decided (enforced) and would have decided (shadow). */
  readonly authorizations?: readonly { readonly decision: string; readonly ruleId: string | null; readonly shadow?: boolean }[];
  readonly policyRevision?: string;
  readonly tool?: string;
  readonly method?: string;
  /** Path as routed, never containing a token (the /s/{token} prefix is removed). */
  readonly path?: string;
  readonly httpStatus?: number;
  readonly durationMs?: number;
  readonly srcIp?: string;
  /** trace-id from an incoming traceparent. */
  readonly traceId?: string;
  /** Event-specific members for unmapped.epochgate (approval_id, idempotency_key, replayed, mcp_tool,
   *  body_sha256, reason, previous_epoch, …). Values must be ids, digests, codes or counts. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** Where a chain stands after its last written record (what an anchor covers, SPEC §13 "Anchors"). */
export interface ChainHead {
  readonly chainUid: string;
  /** metadata.sequence of the last written record. */
  readonly sequence: number;
  /** chain.hash of the last written record. */
  readonly hash: string;
}

export interface AuditLog {
  /** Synchronous: the line is written (write(2) returned) when this returns (SPEC §13 durability). */
  write(event: AuditEvent): void;
  close(): void;
  /** The current chain's last written record; undefined before the chain's first record (or when the log
   *  keeps no chain, as test doubles do). */
  head?(): ChainHead | undefined;
}

/** The audit log as the request runners see it: fails closed while the stream cannot be written (SPEC §13). */
export interface AuditStream extends AuditLog {
  /** False from a failed write until a retry succeeds: requests are refused with audit_unavailable. */
  isAvailable(): boolean;
  /** Counts a request refused during an outage (reported by the audit.recovered record). */
  countRefused(): void;
}
