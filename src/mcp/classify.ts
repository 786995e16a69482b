// Strict parsing of a POSTed MCP message (SPEC §11): what policy matches (method, tool, resource, prompt)
// and the id a per-message outcome answers. The body is parsed with the strict parser: a duplicate member
// anywhere is refused, because JSON.parse keeps the LAST value and an upstream parser may keep the first —
// the gateway would authorise one tool and the upstream run another (a parser differential). Anything that
// is not one JSON-RPC object (batches included) is refused as well: 400, never forwarded.
import { GatewayError } from '../errors/gateway-error.js';
import { JsonTooDeepError, parseStrictJson } from '../util/strict-json.js';

export interface McpMessage {
  /** The JSON-RPC method; undefined for a JSON-RPC response the client sends back. */
  readonly method: string | undefined;
  /** The JSON-RPC id of a request (string or number); undefined for a notification or a response, which
   *  have no reply to carry a per-message outcome (SPEC §11), and for the (forbidden in MCP) null id. */
  readonly id: string | number | undefined;
  /** params.name of tools/call. */
  readonly toolName: string | undefined;
  /** params.uri of resources/read, resources/subscribe, resources/unsubscribe. */
  readonly resourceUri: string | undefined;
  /** params.name of prompts/get. */
  readonly promptName: string | undefined;
}

// JSON-RPC 2.0 §5.1: -32700 parse error, -32600 invalid request, -32602 invalid params.
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const INVALID_PARAMS = -32602;

const RESOURCE_METHODS: ReadonlySet<string> = new Set(['resources/read', 'resources/subscribe', 'resources/unsubscribe']);

export function parseMcpMessage(body: Buffer | null): McpMessage {
  if (body === null) throw invalid(INVALID_REQUEST, 'An MCP POST needs a JSON-RPC message body');
  let message: unknown;
  try {
    message = parseStrictJson(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (err) {
    // SPEC §8: nested deeper than the limit is a client fault too (bad_request), never walked further.
    const detail =
      err instanceof JsonTooDeepError ? err.message
      : err instanceof Error && err.name === 'DuplicateKeyError' ? `The MCP message has a ${err.message}`
      : 'The MCP message is not valid JSON';
    throw invalid(PARSE_ERROR, detail);
  }
  if (Array.isArray(message)) throw invalid(INVALID_REQUEST, 'JSON-RPC batches are not accepted');
  if (!isObject(message)) throw invalid(INVALID_REQUEST, 'The MCP message is not a JSON-RPC object');
  if (message.jsonrpc !== '2.0') throw invalid(INVALID_REQUEST, 'The MCP message is not JSON-RPC 2.0');
  const { method, params, id: rawId } = message;
  if (method !== undefined && typeof method !== 'string') throw invalid(INVALID_REQUEST, 'JSON-RPC method must be a string');
  if (method === undefined && !('result' in message || 'error' in message)) {
    throw invalid(INVALID_REQUEST, 'The MCP message is neither a request, a notification nor a response');
  }
  const id = method !== undefined && (typeof rawId === 'string' || typeof rawId === 'number') ? rawId : undefined;
  if (params !== undefined && !isObject(params)) throw invalid(INVALID_PARAMS, 'params must be an object');
  return {
    method,
    id,
    toolName: method === 'tools/call' ? needString(params, 'name', method) : undefined,
    resourceUri: method !== undefined && RESOURCE_METHODS.has(method) ? needString(params, 'uri', method) : undefined,
    promptName: method === 'prompts/get' ? needString(params, 'name', method) : undefined,
  };
}

function needString(params: Record<string, unknown> | undefined, key: string, method: string): string {
  const value = params?.[key];
  if (typeof value !== 'string' || value === '') throw invalid(INVALID_PARAMS, `${method} needs params.${key}`);
  return value;
}

/** bad_request whose problem body is also a JSON-RPC error response (id null: SPEC §11, JSON-RPC §5). */
function invalid(code: number, detail: string): GatewayError {
  return new GatewayError('bad_request', { detail, fields: { jsonrpc: '2.0', id: null, error: { code, message: detail } } });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
