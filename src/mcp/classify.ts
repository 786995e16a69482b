// Minimal JSON-RPC classification of an MCP Streamable HTTP POST (SPEC §11): which tool a tools/call
// names, so policy `mcp_tools` globs can match it. Batches are refused (SPEC §11).
import { GatewayError } from '../errors/gateway-error.js';
import { JsonTooDeepError, parseJsonWithin } from '../util/strict-json.js';

export interface McpMessage {
  readonly method: string | undefined;
  /** params.name of a tools/call request. */
  readonly toolName: string | undefined;
  /** The JSON-RPC id of a request (string or number); undefined for a notification or a response, which
   *  have no reply to carry a per-message outcome (SPEC §11), and for the discouraged null id. */
  readonly id: string | number | undefined;
}

export function classifyMcpBody(body: Buffer | null): McpMessage {
  if (body === null) throw new GatewayError('bad_request', { detail: 'An MCP POST needs a JSON-RPC message body' });
  let message: unknown;
  try {
    message = parseJsonWithin(body.toString('utf8'));
  } catch (err) {
    // SPEC §8: nested deeper than the limit is a client fault too (bad_request), never walked further.
    const deep = err instanceof JsonTooDeepError;
    throw new GatewayError('bad_request', { detail: deep ? err.message : 'The MCP message is not valid JSON' });
  }
  if (Array.isArray(message)) throw new GatewayError('bad_request', { detail: 'JSON-RPC batches are not accepted' });
  if (typeof message !== 'object' || message === null) {
    throw new GatewayError('bad_request', { detail: 'The MCP message is not a JSON-RPC object' });
  }
  const { method, params, id: rawId } = message as { method?: unknown; params?: unknown; id?: unknown };
  if (method !== undefined && typeof method !== 'string') throw new GatewayError('bad_request', { detail: 'JSON-RPC method must be a string' });
  const id = method !== undefined && (typeof rawId === 'string' || typeof rawId === 'number') ? rawId : undefined;
  if (method !== 'tools/call') return { method, toolName: undefined, id };
  const name = typeof params === 'object' && params !== null ? (params as { name?: unknown }).name : undefined;
  if (typeof name !== 'string' || name === '') {
    throw new GatewayError('bad_request', { detail: 'tools/call needs params.name' });
  }
  return { method, toolName: name, id };
}
