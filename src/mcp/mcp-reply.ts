// SPEC §11: per-message outcomes of an MCP JSON-RPC request are answered in MCP form — HTTP 200 with the
// request's id — so an MCP client reports them against the call that caused them instead of treating the
// whole transport as broken:
// - a refused tools/call is a tool RESULT with isError: true, so the model sees why and what to do next
//   (an SDK agent does not throw); the problem object rides in _meta["io.epochgate/problem"];
// - any other method gets a JSON-RPC error with a code from this gateway's range, -31001…-31008: outside
//   JSON-RPC's reserved -32768…-32000 and the codes the MCP SDKs use (-32001 is the SDK's RequestTimeout,
//   -32042 URL elicitation), so a client never confuses ours with its own; error.data is the problem.
// - except approval_required to a client that declared URL-mode elicitation (MCP 2025-11-25) while the
//   console is enabled: that is the URL-elicitation-required error -32042, whose one elicitation points at
//   the approval's console page (SPEC §11), with the problem beside it in error.data.
//
// Only the codes below are per-message. Everything else stays an HTTP problem (problemReply): transport
// and credential failures (token_*, session_*, agent_disabled: 401/403 with the bearer challenge),
// scope_exceeded (about the whole tool route, decided before the message is read; keeps its
// insufficient_scope challenge), body-level failures (bad_request, payload_too_large), route_not_found (an
// MCP session bound elsewhere: the transport's 404), store and upstream failures, and internal_error.
import { CATALOGUE, type ErrorCode } from '../errors/catalogue.js';
import type { GatewayError } from '../errors/gateway-error.js';
import { problemReply, type ProblemReply } from '../errors/problem.js';

export const MCP_ERROR_CODES = {
  policy_denied: -31001,
  approval_required: -31002,
  approval_denied: -31003,
  idempotency_in_progress: -31004,
  outcome_unknown: -31005,
  idempotency_key_reused: -31006,
  idempotency_key_missing: -31007,
  too_many_requests: -31008,
} as const satisfies Partial<Record<ErrorCode, number>>;

/** `_meta` keys this gateway sets on tool results (reverse-DNS prefixed, as MCP asks of _meta keys). */
export const PROBLEM_META = 'io.epochgate/problem';
/** MCP 2025-11-25: URL elicitation required. */
export const URL_ELICITATION_REQUIRED = -32042;
export const REPLAY_META = 'io.epochgate/replay';

type McpErrorCode = keyof typeof MCP_ERROR_CODES;

function isMcpErrorCode(code: ErrorCode): code is McpErrorCode {
  return Object.hasOwn(MCP_ERROR_CODES, code);
}

/**
 * The MCP-form reply for `error` answering the JSON-RPC request `jsonRpcId` of method `method`, or
 * undefined when the error is not a per-message outcome (the caller then answers the HTTP problem).
 * Headers the problem carries (Retry-After) are kept; the bearer challenge never applies to these codes.
 */
export function mcpErrorReply(error: GatewayError, requestId: string, jsonRpcId: string | number, method: string | undefined, urlElicitation = false): ProblemReply | undefined {
  if (!isMcpErrorCode(error.code)) return undefined;
  const problem = problemReply(error, requestId);
  const data = JSON.parse(problem.body) as Record<string, unknown>;
  const headers: Record<string, string> = { ...problem.headers, 'content-type': 'application/json' };
  const elicitation = urlElicitation && error.code === 'approval_required' ? urlElicitationError(data) : undefined;
  const outcome =
    elicitation !== undefined ? { error: elicitation }
    : method === 'tools/call'
      ? { result: { content: [{ type: 'text', text: refusalText(error.code, data) }], isError: true, _meta: { [PROBLEM_META]: data } } }
      : { error: { code: MCP_ERROR_CODES[error.code], message: CATALOGUE[error.code].title, data } };
  return { status: 200, headers, body: JSON.stringify({ jsonrpc: '2.0', id: jsonRpcId, ...outcome }), code: error.code };
}

/** SPEC §11: the problem's title, then its detail, then what to do next — what the model reads. */
export function refusalText(code: McpErrorCode, problem: Record<string, unknown>): string {
  const title = String(problem.title ?? CATALOGUE[code].title);
  const detail = typeof problem.detail === 'string' && problem.detail !== title ? `\n${problem.detail}` : '';
  return `${title}${detail}\n${nextStep(code, problem)}`;
}

function nextStep(code: McpErrorCode, problem: Record<string, unknown>): string {
  const approval = typeof problem.approval_id === 'string' ? problem.approval_id : undefined;
  switch (code) {
    case 'policy_denied':
      return 'Next: do not retry this call; policy does not allow it. Use another tool or ask an operator.';
    case 'approval_required': {
      const url = typeof problem.approval_url === 'string' ? ` (${problem.approval_url})` : '';
      return `Next: a person must approve this call: approval_id ${approval ?? 'unknown'}${url}. Retry the same call, unchanged, once it is approved.`;
    }
    case 'approval_denied':
      return `Next: do not retry; a person denied this call (approval_id ${approval ?? 'unknown'}).`;
    case 'idempotency_in_progress':
      return 'Next: the same call is still running; retry it in a moment.';
    case 'outcome_unknown':
      return `Next: do not retry; whether an earlier identical call took effect is unknown (entry ${String(problem.entry_id ?? 'unknown')}) until an administrator resolves it.`;
    case 'idempotency_key_reused':
      return 'Next: this Idempotency-Key was used for a different call; send a new key.';
    case 'idempotency_key_missing':
      return 'Next: resend the call with an Idempotency-Key header.';
    case 'too_many_requests':
      return 'Next: too many calls of this session are in flight; retry after the others finish.';
  }
}

/** The -32042 error for an approval_required problem that carries approval_url; undefined without one. */
function urlElicitationError(problem: Record<string, unknown>): Record<string, unknown> | undefined {
  const url = problem.approval_url;
  const id = problem.approval_id;
  if (typeof url !== 'string' || typeof id !== 'string') return undefined;
  const message = `${String(problem.title ?? CATALOGUE.approval_required.title)}: a person must approve this exact call at ${url}; retry it unchanged once approved.`;
  return {
    code: URL_ELICITATION_REQUIRED,
    message,
    data: { elicitations: [{ mode: 'url', elicitationId: id, url, message }], [PROBLEM_META]: problem },
  };
}
