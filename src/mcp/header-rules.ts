// SPEC §11: the MCP 2026-07-28 transport repeats the JSON-RPC method and tool name in the `Mcp-Method` and
// `Mcp-Name` request headers so intermediaries can route and rate-limit without parsing the body. The
// gateway authorises on the body; if the headers may say something else, a load balancer, WAF or upstream
// that trusts the headers sees a different call than the one policy approved (a confused deputy). So:
// - 2026-07-28: both headers are required where they apply and must equal the body, else bad_request;
// - 2025-06-18, 2025-11-25, no version header (or any other version): the headers are optional, but when a
//   client sends them they must agree too, for the same reason — a disagreeing header is never forwarded.
// `Mcp-Name` names what the message targets: params.name of tools/call (required with 2026-07-28) and of
// prompts/get, params.uri of resources/read; when sent on those it must agree too. Other methods have no name.
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../errors/gateway-error.js';
import type { McpMessage } from './classify.js';

/** The revision whose transport requires the routing headers. */
export const HEADER_REVISION = '2026-07-28';

export function checkMcpHeaders(headers: IncomingHttpHeaders, message: McpMessage): void {
  const required = single(headers['mcp-protocol-version']) === HEADER_REVISION;
  const method = single(headers['mcp-method']);
  // A POSTed JSON-RPC response (no method) has nothing for Mcp-Method to name.
  if (message.method !== undefined) {
    if (method === undefined) {
      if (required) throw mismatch(`MCP-Protocol-Version ${HEADER_REVISION} requires an Mcp-Method header`);
    } else if (method !== message.method) {
      throw mismatch('The Mcp-Method header does not match the JSON-RPC method');
    }
  } else if (method !== undefined) {
    throw mismatch('The Mcp-Method header names a method, but the message is not a request');
  }
  const target = message.method === 'resources/read' ? message.resourceUri : message.method === 'prompts/get' ? message.promptName : message.toolName;
  if (target === undefined) return;
  const name = single(headers['mcp-name']);
  if (name === undefined) {
    if (required && message.method === 'tools/call') throw mismatch(`MCP-Protocol-Version ${HEADER_REVISION} requires an Mcp-Name header on tools/call`);
  } else if (name !== target) {
    throw mismatch(`The Mcp-Name header does not match params.${message.method === 'resources/read' ? 'uri' : 'name'}`);
  }
}

// Node joins repeated unknown headers with ", "; a header sent twice is therefore never equal to a
// method or tool name that does not itself contain ", " — it fails the comparison, as it should.
function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

const mismatch = (detail: string): GatewayError => new GatewayError('bad_request', { detail });
