// The SPEC §16 scenarios as load specs per target. The same request reaches the same upstream route by the
// three paths: direct, through the bare proxy, and through the gateway (with the session token).
import type { LoadSpec } from './load.js';

export type TargetName = 'direct' | 'bare' | 'gateway';

export interface Targets {
  /** Upstream origin (direct path). */
  readonly upstream: string;
  /** Bare proxy origin: forwards every path to the upstream origin. */
  readonly bare: string;
  /** Gateway data-plane origin: tool `api` = upstream/api, tool `mcp` = upstream/mcp. */
  readonly gateway: string;
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Each gateway measurement gets a fresh session, so no measurement sees another's ledger window. */
  readonly freshSession: boolean;
  spec(target: TargetName, targets: Targets, token: string): Omit<LoadSpec, 'connections' | 'durationMs'>;
}

/** 1 KiB JSON: what an agent's side-effecting call typically carries. */
export const ORDER_BODY = orderBody(1024);

function orderBody(bytes: number): string {
  const shell = { customer: 'cus_7', items: [{ sku: 'a', qty: 1 }], note: '' };
  return JSON.stringify({ ...shell, note: 'n'.repeat(bytes - JSON.stringify(shell).length) });
}
const JSON_HEADERS = { 'content-type': 'application/json' };
const MCP_CALL = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' } } });
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };

function url(target: TargetName, targets: Targets, upstreamPath: string, toolPath: string): string {
  if (target === 'direct') return `${targets.upstream}${upstreamPath}`;
  if (target === 'bare') return `${targets.bare}${upstreamPath}`;
  return `${targets.gateway}${toolPath}`;
}

function auth(target: TargetName, token: string): Record<string, string> {
  return target === 'gateway' ? { authorization: `Bearer ${token}` } : {};
}

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'get_small',
    title: 'GET, ~200 B JSON',
    freshSession: false,
    spec: (t, targets, token) => ({ url: url(t, targets, '/api/small', '/tools/api/small'), headers: auth(t, token) }),
  },
  {
    id: 'post_ledger',
    title: 'POST 1 KiB, side-effecting (occurrence ledger)',
    freshSession: true,
    spec: (t, targets, token) => ({
      url: url(t, targets, '/api/orders', '/tools/api/orders'),
      method: 'POST',
      body: ORDER_BODY,
      headers: { ...JSON_HEADERS, ...auth(t, token) },
    }),
  },
  {
    id: 'post_idempotency_key',
    title: 'POST 1 KiB, fresh Idempotency-Key',
    freshSession: true,
    spec: (t, targets, token) => ({
      url: url(t, targets, '/api/payments', '/tools/api/payments'),
      method: 'POST',
      body: ORDER_BODY,
      headers: { ...JSON_HEADERS, ...auth(t, token) },
      freshIdempotencyKey: true,
    }),
  },
  {
    id: 'get_256k',
    title: 'GET, 256 KiB response',
    freshSession: false,
    spec: (t, targets, token) => ({ url: url(t, targets, '/api/blob', '/tools/api/blob'), headers: auth(t, token) }),
  },
  {
    id: 'mcp_tools_call',
    title: 'MCP tools/call (official SDK server, stateless, JSON)',
    freshSession: false,
    spec: (t, targets, token) => ({
      url: url(t, targets, '/mcp', '/tools/mcp'),
      method: 'POST',
      body: MCP_CALL,
      headers: { ...MCP_HEADERS, ...auth(t, token) },
    }),
  },
];
