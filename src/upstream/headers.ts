// Header hygiene between agent, gateway and tool (SPEC §8). Strip first, then inject (DESIGN rule 11):
// nothing the agent sends can survive under a name the gateway sets, and the agent's credential never
// reaches a tool.
import type { ServerResponse } from 'node:http';
import { duplicateHeader } from '../http/authorization.js';
import { randomHexPooled } from '../util/random-pool.js';
import type { ToolConfig } from '../config/types.js';

export type HeaderMap = Record<string, string | string[]>;

/** An empty header map without a prototype: a header named `constructor` or `__proto__` is just a header. */
export const emptyHeaderMap = (): HeaderMap => Object.create(null) as HeaderMap;

export interface UpstreamHeaderContext {
  readonly tool: ToolConfig;
  readonly requestId: string;
  readonly clientIp: string;
  readonly proto: 'http' | 'https';
  /** The agent's Host header, reported as X-Forwarded-Host (it never routes, SPEC §8). */
  readonly host?: string | undefined;
  /** The agent's traceparent, if any (the raw headers are used when this is absent). */
  readonly traceparent?: string | undefined;
  readonly sessionId: string;
  readonly epoch: number;
  readonly agentId: string;
}

// RFC 9110 §7.6.1 hop-by-hop fields, plus Proxy-Connection (legacy, still sent by some clients) and
// HTTP2-Settings (RFC 9113 §3.2.1, connection-specific).
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

const DROPPED_REQUEST: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP,
  // SPEC §8 / DESIGN rule 11: the agent's credentials (the session token in particular) stay here.
  'authorization',
  'proxy-authorization',
  'dpop',
  // undici sets Host from the upstream URL; the agent's Host is reported as X-Forwarded-Host.
  'host',
  // The body is re-sent by undici, which computes Content-Length from the Buffer we pass (chunked for a
  // stream), so the framing can never disagree with the bytes actually sent (no request smuggling).
  'content-length',
  // 100-continue was already answered by Node's server; undici refuses to send Expect at all.
  'expect',
  // Always replaced by the gateway's own values below; never trusted from the agent.
  'forwarded',
  'x-request-id',
  'traceparent',
  'tracestate',
]);

/** Response headers never relayed to the agent (RFC 9110 §7.6.1); Proxy-Authenticate is per hop too. */
const DROPPED_RESPONSE: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'proxy-authenticate']);

const NONE: ReadonlySet<string> = new Set();

const SECURITY_HEADERS: readonly string[] = ['Host', 'Authorization', 'Idempotency-Key', 'Content-Length', 'Mcp-Session-Id'];
/** Lower-case name → the name as reported; looked up once per request header, so no per-header case folding of the list. */
const SECURITY_BY_LOWER: ReadonlyMap<string, string> = new Map(SECURITY_HEADERS.map((name) => [name.toLowerCase(), name]));

/** Lower-case names listed in Connection header values (RFC 9110 §7.6.1: they are hop-by-hop too). */
function connectionNamed(values: readonly string[]): ReadonlySet<string> {
  // Most messages name nothing in Connection, or the same single value every time (an upstream's
  // "keep-alive"): share one set for those instead of building one per message. The sets are never mutated.
  if (values.length === 0) return NONE;
  if (values.length === 1 && values[0] === lastConnection.value) return lastConnection.named;
  const named = new Set<string>();
  for (const value of values) {
    for (const token of value.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') named.add(name);
    }
  }
  if (values.length === 1) lastConnection = { value: values[0] as string, named };
  return named;
}

let lastConnection: { readonly value: string; readonly named: ReadonlySet<string> } = { value: '', named: new Set() };

function append(out: HeaderMap, name: string, value: string): void {
  const prev = out[name];
  if (prev === undefined) out[name] = value;
  else if (Array.isArray(prev)) prev.push(value);
  else out[name] = [prev, value];
}

/**
 * Headers for the upstream request, from the agent's `req.rawHeaders` (name/value pairs). Result names
 * are lower-case.
 */
export function buildUpstreamHeaders(rawHeaders: readonly string[], ctx: UpstreamHeaderContext): HeaderMap {
  const scan = scanRequest(rawHeaders);
  const out = copyAgentHeaders(rawHeaders, connectionNamed(scan.connectionValues), ctx.tool.forwardCookies);
  // Injected headers replace any incoming header of the same name (the agent cannot add a second
  // Authorization next to the tool's API key, for example).
  for (const [name, value] of Object.entries(ctx.tool.headers)) out[name.toLowerCase()] = value;
  setForwarding(out, ctx);
  setTraceContext(out, ctx.traceparent, scan);
  // SPEC §8: so fencing-aware tools can check the epoch themselves.
  out['x-epochgate-session'] = ctx.sessionId;
  out['x-epochgate-epoch'] = String(ctx.epoch);
  out['x-epochgate-agent'] = ctx.agentId;
  return out;
}

/** What the copy and the trace step need to know, read in one pass: Connection values and trace context. */
interface RequestScan {
  readonly connectionValues: readonly string[];
  readonly rawTraceparent: string | undefined;
  readonly traceparentCount: number;
  readonly tracestate: readonly string[];
}

function scanRequest(rawHeaders: readonly string[]): RequestScan {
  const connectionValues: string[] = [];
  const tracestate: string[] = [];
  let rawTraceparent: string | undefined;
  let traceparentCount = 0;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (name === 'connection') connectionValues.push(value);
    else if (name === 'tracestate') tracestate.push(value);
    else if (name === 'traceparent') {
      traceparentCount += 1;
      rawTraceparent = value;
    }
  }
  return { connectionValues, rawTraceparent, traceparentCount, tracestate };
}

/** The agent's headers that may reach the tool: all but the dropped, Connection-named and reserved ones. */
function copyAgentHeaders(rawHeaders: readonly string[], named: ReadonlySet<string>, forwardCookies: boolean): HeaderMap {
  // No prototype: a header named "constructor" must not collide with an inherited member in append().
  const out = emptyHeaderMap();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (DROPPED_REQUEST.has(name) || named.has(name)) continue;
    if (name === 'cookie' && !forwardCookies) continue;
    // Names with "_" are dropped: CGI-style servers map "X-Foo_Bar" and "X-Foo-Bar" to the same
    // variable, so an agent could smuggle a value past a check made on the dashed name.
    if (name.includes('_')) continue;
    // The gateway's own namespaces: set from verified state, never from the agent.
    if (name.startsWith('x-forwarded-') || name.startsWith('x-epochgate-')) continue;
    append(out, name, rawHeaders[i + 1] as string);
  }
  return out;
}

/**
 * Every incoming X-Forwarded-* and Forwarded was dropped: the chain starts at this gateway, since an
 * agent-supplied chain is unverifiable.
 */
function setForwarding(out: HeaderMap, ctx: UpstreamHeaderContext): void {
  if (ctx.clientIp !== '') out['x-forwarded-for'] = ctx.clientIp;
  out['x-forwarded-proto'] = ctx.proto;
  if (ctx.host !== undefined && ctx.host !== '') out['x-forwarded-host'] = ctx.host;
  out['x-request-id'] = ctx.requestId;
}

/**
 * W3C Trace Context §3.2/§3.3: a valid traceparent (exactly one) is passed through, with its tracestate;
 * otherwise a new trace starts and any tracestate is discarded with the invalid parent.
 */
function setTraceContext(out: HeaderMap, given: string | undefined, scan: RequestScan): void {
  const incoming = given ?? (scan.traceparentCount === 1 ? scan.rawTraceparent : undefined);
  if (incoming !== undefined && scan.traceparentCount <= 1 && parseTraceparent(incoming)) {
    out.traceparent = incoming.trim().toLowerCase();
    if (scan.tracestate.length > 0) out.tracestate = scan.tracestate.join(',');
  } else {
    out.traceparent = newTraceparent();
  }
}

/**
 * SPEC §8: the first of Host, Authorization, Idempotency-Key, Content-Length, Mcp-Session-Id that occurs
 * more than once (any case), or undefined. Two values leave it to each party to pick one, which is how
 * credential confusion and request smuggling start.
 */
export function duplicateSecurityHeader(rawHeaders: readonly string[]): string | undefined {
  return duplicateHeader(rawHeaders, SECURITY_BY_LOWER);
}

/**
 * Upstream response headers as relayed to the agent (SPEC §8): hop-by-hop ones and those named in
 * Connection removed, everything else kept as is. The caller adds X-Request-Id.
 */
export function stripResponseHeaders(upstreamHeaders: Readonly<Record<string, string | string[] | undefined>>): HeaderMap {
  const connection = upstreamHeaders.connection ?? upstreamHeaders.Connection;
  const named = connectionNamed(connection === undefined ? [] : Array.isArray(connection) ? connection : [connection]);
  const out = emptyHeaderMap();
  for (const [rawName, value] of Object.entries(upstreamHeaders)) {
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    if (DROPPED_RESPONSE.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

// W3C Trace Context §3.2.2: version-traceid-parentid-flags, lower-case hex.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_PARENT = '0'.repeat(16);

/** A valid W3C traceparent's ids, or undefined (invalid values start a new trace). */
export function parseTraceparent(value: string | undefined): { traceId: string; parentId: string; flags: string } | undefined {
  if (value === undefined) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, parentId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  // §3.2.2.1: version ff is invalid; version 00 has exactly four fields (later versions may add more).
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  // §3.2.2.3/§3.2.2.4: all-zero ids are invalid.
  if (traceId === ZERO_TRACE || parentId === ZERO_PARENT) return undefined;
  return { traceId, parentId, flags };
}

/** A fresh, sampled traceparent: version 00, random 16-byte trace id and 8-byte parent id, flags 01. */
export function newTraceparent(): string {
  for (;;) {
    const bytes = randomHexPooled(24);
    const traceId = bytes.slice(0, 32);
    const parentId = bytes.slice(32);
    if (traceId !== ZERO_TRACE && parentId !== ZERO_PARENT) return `00-${traceId}-${parentId}-01`;
  }
}

/**
 * Sets the tool's headers on `res`; headers the gateway already set (X-Request-Id, SPEC §8) win. setHeader
 * validates name and value itself (RFC 9110 §5.1, §5.5); when it refuses one, the headers set so far are
 * removed again, so `res` is left clean for the caller's problem reply. Returns the refusal, if any.
 */
export function relayHeaders(relayed: HeaderMap, res: ServerResponse): unknown {
  const set: string[] = [];
  try {
    for (const name in relayed) {
      if (res.hasHeader(name)) continue;
      res.setHeader(name, relayed[name] as string | string[]);
      set.push(name);
    }
    return undefined;
  } catch (err) {
    for (const name of set) res.removeHeader(name);
    return err;
  }
}

/** A text/event-stream answer (SSE): flushed at once and policed by its own idle timeout (SPEC §2). */
export function isEventStream(headers: HeaderMap): boolean {
  const type = headers['content-type'];
  const value = Array.isArray(type) ? type[0] : type;
  return value !== undefined && value.trimStart().toLowerCase().startsWith('text/event-stream');
}
