// SPEC §11: per-message outcomes of an MCP JSON-RPC request are answered in MCP form — HTTP 200 with a
// JSON-RPC error that has the request's id — so an MCP client reports them against the call that caused
// them instead of treating the whole transport as broken. The problem object (SPEC §12) rides in
// `error.data`, so nothing a plain-HTTP agent would have learnt is lost.
//
// Only the codes below are per-message. Everything else stays an HTTP problem (problemReply): transport
// and credential failures (token_*, session_*, agent_disabled: 401/403 with the bearer challenge, SPEC
// §11), scope_exceeded (scope is about the whole tool route, not one message; it keeps its
// insufficient_scope challenge), body-level failures found before or while parsing (bad_request,
// payload_too_large), route_not_found (an MCP session bound elsewhere: the transport's 404), store and
// upstream failures (nothing per-message about them) and internal_error.
//
// JSON-RPC 2.0 §5.1 leaves -32000..-32099 to the implementation for server errors: one code per problem
// code, stable like the problem codes themselves (the README's "MCP tools" section lists this table).
import { CATALOGUE, type ErrorCode } from '../errors/catalogue.js';
import type { GatewayError } from '../errors/gateway-error.js';
import { problemReply, type ProblemReply } from '../errors/problem.js';

export const MCP_ERROR_CODES = {
  policy_denied: -32001,
  approval_required: -32002,
  approval_denied: -32003,
  idempotency_key_missing: -32004,
  idempotency_in_progress: -32005,
  idempotency_key_reused: -32006,
  outcome_unknown: -32007,
} as const satisfies Partial<Record<ErrorCode, number>>;

type McpErrorCode = keyof typeof MCP_ERROR_CODES;

function isMcpErrorCode(code: ErrorCode): code is McpErrorCode {
  return Object.hasOwn(MCP_ERROR_CODES, code);
}

/**
 * The MCP-form reply for `error` answering the JSON-RPC request `jsonRpcId`, or undefined when the error is
 * not a per-message outcome (the caller then answers the HTTP problem). Headers the problem carries
 * (Retry-After) are kept; the bearer challenge never applies to these codes.
 */
export function mcpErrorReply(error: GatewayError, requestId: string, jsonRpcId: string | number): ProblemReply | undefined {
  if (!isMcpErrorCode(error.code)) return undefined;
  const problem = problemReply(error, requestId);
  const headers: Record<string, string> = { ...problem.headers, 'content-type': 'application/json' };
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: jsonRpcId,
    error: { code: MCP_ERROR_CODES[error.code], message: CATALOGUE[error.code].title, data: JSON.parse(problem.body) as unknown },
  });
  return { status: 200, headers, body, code: error.code };
}
