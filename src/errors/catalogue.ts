// The one catalogue of client-visible errors (SPEC §12). Status, title and challenge come from here;
// nothing else in the code base sets an error status by hand. Renaming a code is a breaking change.

export interface ErrorSpec {
  /** Default status (data plane). */
  readonly status: number;
  /** Status when the same condition is reported by a control-plane state transition (resume/token). */
  readonly conflictStatus?: number;
  readonly title: string;
  /** RFC 6750 §3.1 error attribute used when the request carried a bearer credential. */
  readonly bearerError?: 'invalid_token' | 'insufficient_scope';
  /** Sets Retry-After (seconds) unless the thrower gives one. */
  readonly retryAfter?: number;
}

export const CATALOGUE = {
  bad_request: { status: 400, title: 'Bad request' },
  invalid_request: { status: 400, title: 'Request body failed validation' },
  idempotency_key_missing: { status: 400, title: 'An Idempotency-Key header is required' },
  token_missing: { status: 401, title: 'No credential was presented' },
  token_invalid: { status: 401, title: 'The token is not valid', bearerError: 'invalid_token' },
  token_expired: { status: 401, title: 'The token has expired or is not yet valid', bearerError: 'invalid_token' },
  token_revoked: { status: 401, title: 'The token was issued before the agent was rotated', bearerError: 'invalid_token' },
  session_unknown: { status: 401, title: 'The token names no session', bearerError: 'invalid_token' },
  session_stale_epoch: { status: 401, title: 'The token is from an older epoch; resume required', bearerError: 'invalid_token' },
  session_suspended: { status: 401, conflictStatus: 409, title: 'The session is suspended; resume required', bearerError: 'invalid_token' },
  session_closed: { status: 401, conflictStatus: 409, title: 'The session is closed', bearerError: 'invalid_token' },
  session_revoked: { status: 401, conflictStatus: 409, title: 'The session was revoked', bearerError: 'invalid_token' },
  credential_invalid: { status: 401, title: 'The credential does not verify', bearerError: 'invalid_token' },
  assertion_replayed: { status: 401, title: 'The client assertion was already used', bearerError: 'invalid_token' },
  agent_disabled: { status: 403, title: 'The agent is disabled or no longer exists' },
  forbidden: { status: 403, title: 'The caller may not do this' },
  scope_exceeded: { status: 403, title: 'The tool is outside the session scope', bearerError: 'insufficient_scope' },
  policy_denied: { status: 403, title: 'Policy denies this call' },
  approval_required: { status: 403, title: 'This call needs a human approval', retryAfter: 5 },
  approval_denied: { status: 403, title: 'A person denied this call' },
  resume_limit: { status: 403, title: 'The session has reached its resume limit' },
  scope_empty: { status: 403, title: 'Nothing is left in scope after re-validation' },
  route_not_found: { status: 404, title: 'No such tool or route' },
  session_not_found: { status: 404, title: 'No such session' },
  approval_not_found: { status: 404, title: 'No such approval' },
  epoch_conflict: { status: 409, title: 'The expected epoch is not the current epoch' },
  session_exists: { status: 409, title: 'A session for this task is already open' },
  approval_not_pending: { status: 409, title: 'The approval is not pending' },
  idempotency_in_progress: { status: 409, title: 'A request with this key is in flight', retryAfter: 1 },
  outcome_unknown: { status: 409, title: 'The outcome of a matching earlier call is unknown' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  too_many_requests: { status: 429, title: 'Too many calls of this session are in flight', retryAfter: 1 },
  idempotency_key_reused: { status: 422, title: 'The key was used for a different request' },
  upstream_unreachable: { status: 502, title: 'The tool could not be reached' },
  upstream_timeout: { status: 504, title: 'The tool did not answer in time' },
  store_unavailable: { status: 503, title: 'The state store is unavailable', retryAfter: 1 },
  audit_unavailable: { status: 503, title: 'The audit stream cannot be written', retryAfter: 1 },
  internal_error: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof CATALOGUE;

export const ERROR_CODES = Object.keys(CATALOGUE) as ErrorCode[];
