// Data-plane request target parsing and path normalisation (SPEC §8). Pure functions: no I/O, no clock.
//
// The path is percent-decoded exactly once, segment by segment, validated, and only the decoded segments
// travel further (policy matching, audit, forwarding). The upstream URL is rebuilt from those segments by
// re-encoding each one — never by relative URL resolution — so what the policy saw is exactly what the
// tool receives, and no byte sequence can be interpreted as a different path by the upstream.
import { GatewayError } from '../errors/gateway-error.js';

export type DataPlaneTarget =
  | {
      readonly kind: 'tool';
      readonly tool: string;
      /** Decoded segments below the tool. A trailing "" stands for a trailing slash ("/a/" → ["a", ""]). */
      readonly segments: string[];
      /** "/" + segments joined by "/" ("/" when there are none). */
      readonly path: string;
      /** Raw query including the leading "?", or "". */
      readonly query: string;
      /** The raw {token} of /s/{token}/tools/…; never decoded, logged or audited. */
      readonly pathToken?: string;
      /** "/tools/{tool}" + path below it; never contains the token. */
      readonly auditPath: string;
    }
  | { readonly kind: 'other' };

// Tool names as allowed in config (SPEC §2 keys); anything else cannot name a tool → route_not_found.
const TOOL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

// RFC 9112 §3.2 / RFC 3986 §2: a request target is printable US-ASCII; everything else must be
// percent-encoded. Rejecting raw bytes outside 0x21–0x7E up front means no parser downstream (ours,
// undici's, the tool's) has to guess at a charset, and raw control characters never get further.
const RAW_TARGET_OK = /^[\x21-\x7e]*$/;

// Decoded segments must not contain C0/C1 control characters or DEL (log injection, header/path
// splitting at the tool), nor "/" or "\" (they would change segment boundaries once re-interpreted).
const DECODED_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f/\\]/;

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function bad(detail: string): GatewayError {
  return new GatewayError('bad_request', { detail });
}

/**
 * Parses a data-plane request target (Node's `req.url`). Throws GatewayError('bad_request') for a
 * malformed or dangerous target; returns `{ kind: 'other' }` for a well-formed path that is not a tool
 * route (the caller answers route_not_found).
 */
export function parseDataPlaneTarget(rawUrl: string): DataPlaneTarget {
  checkTargetForm(rawUrl);
  const q = rawUrl.indexOf('?');
  const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? '' : rawUrl.slice(q);
  if (rawPath === '/') return { kind: 'other' };
  const raw = rawPath.slice(1).split('/');
  const decoded = decodePath(raw);
  if (decoded === null) return { kind: 'other' };
  const tokenForm = decoded[0] === 's';
  const base = tokenForm ? 2 : 0;
  if (decoded[base] !== 'tools') return { kind: 'other' };
  const tool = decoded[base + 1];
  if (tool === undefined || !TOOL_NAME.test(tool)) return { kind: 'other' };
  const segments = decoded.slice(base + 2);
  const path = `/${segments.join('/')}`;
  // SPEC §13: never a token in an audited path, even one the agent put in the tool's place or below the tool
  // (both refused later: no such tool, or the path token repeated).
  const auditPath = `/tools/${redactJwsLike(tool)}${segments.length === 0 ? '' : `/${segments.map(redactJwsLike).join('/')}`}`;
  if (tokenForm) {
    const pathToken = raw[1] ?? '';
    // SPEC §8: the token is never forwarded, also not when the agent repeats it below the tool or in the query.
    if (segments.some((segment) => segment.includes(pathToken)) || query.includes(pathToken)) {
      throw bad('The path token appears again in the path or query');
    }
    return { kind: 'tool', tool, segments, path, query, pathToken, auditPath };
  }
  return { kind: 'tool', tool, segments, path, query, auditPath };
}

/** Refuses what is malformed or dangerous before any segment is looked at. */
function checkTargetForm(rawUrl: string): void {
  // SPEC §8: only origin-form. Absolute-form ("http://h/x"), authority-form ("h:443") and asterisk-form
  // ("*") would let the target, not the path, choose where the request goes.
  if (!rawUrl.startsWith('/')) throw bad('Request target must be origin-form');
  if (!RAW_TARGET_OK.test(rawUrl)) throw bad('Request target contains a raw control or non-ASCII character');
  // RFC 9112 §3.2.1: origin-form has no fragment; a raw "#" is malformed, not a delimiter to honour.
  if (rawUrl.includes('#')) throw bad('Request target contains "#"');
  // A raw "\" is a path separator to some servers (WHATWG URL treats it as "/" for http).
  if (rawUrl.includes('\\')) throw bad('Request target contains "\\"');
}

/**
 * Decodes every segment once; null for a /s/ path too short to name a tool. The /s/{token}/ form: the token
 * segment is kept raw (never decoded, so never "normalised" into something else and never copied into an
 * error detail).
 */
function decodePath(raw: readonly string[]): string[] | null {
  const first = decodeSegment(raw[0] ?? '', 0, raw.length);
  if (first === 's' && raw.length < 4) return null; // too short for /s/{token}/tools/{tool}
  const tokenForm = first === 's';
  const decoded: string[] = [first];
  for (let i = 1; i < raw.length; i += 1) {
    const segment = raw[i] ?? '';
    if (tokenForm && i === 1) {
      if (segment === '' || isDotSegment(segment)) throw bad('Malformed token path segment');
      decoded.push(segment);
    } else {
      decoded.push(decodeSegment(segment, i, raw.length));
    }
  }
  return decoded;
}

/**
 * Percent-decodes one segment exactly once and validates the result. `index`/`count` locate it in the
 * path: only the last segment may be empty (a trailing slash).
 */
function decodeSegment(segment: string, index: number, count: number): string {
  if (segment === '') {
    // "//" is ambiguous: some servers collapse it (so /a//b means /a/b), others keep an empty segment,
    // and WHATWG URL parsing of "//x" at the start reads "x" as a host. Policy could then see a
    // different path than the tool; refuse rather than pick one. A trailing slash is unambiguous.
    if (index === count - 1 && index > 0) return '';
    throw bad('Empty path segment');
  }
  let value = segment;
  if (segment.includes('%')) {
    const bytes = new Uint8Array(segment.length);
    let n = 0;
    for (let i = 0; i < segment.length; i += 1) {
      const c = segment.charCodeAt(i);
      if (c !== 0x25) {
        bytes[n++] = c; // ASCII only (checked on the raw target)
        continue;
      }
      const hi = hexValue(segment.charCodeAt(i + 1));
      const lo = hexValue(segment.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) throw bad('Invalid percent-encoding in path');
      bytes[n++] = (hi << 4) | lo;
      i += 2;
    }
    try {
      value = UTF8.decode(bytes.subarray(0, n));
    } catch {
      throw bad('Path is not valid UTF-8 after decoding');
    }
  }
  // RFC 3986 §5.2.4 dot segments, raw or encoded (%2e, .%2e, %2E%2E …): they are the traversal vector.
  if (isDotSegment(value)) throw bad('Dot segment in path');
  if (DECODED_FORBIDDEN.test(value)) throw bad('Encoded separator or control character in path');
  return value;
}

// A compact JWS anywhere in a segment: three base64url parts, the first a JSON header ("eyJ" = '{"').
// Narrow on purpose: ordinary dotted names (file.tar.gz, api.v1.x) stay readable in the audit stream.
const JWS_INSIDE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/;

function redactJwsLike(segment: string): string {
  return JWS_INSIDE.test(segment) ? '[redacted]' : segment;
}

/**
 * A dot segment, also with path parameters: servlet containers (Tomcat, Jetty) strip ";…" from a segment
 * before resolving dot segments, so "..;" and ".;jsessionid=x" climb like ".." and "." there (SPEC §8).
 * Checked on the decoded value, so "%2e%2e;" and "..%3b" are caught as well.
 */
function isDotSegment(value: string): boolean {
  const semicolon = value.indexOf(';');
  const head = semicolon === -1 ? value : value.slice(0, semicolon);
  return head === '.' || head === '..';
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1; // also NaN past the end: a truncated "%4" is invalid
}

// RFC 3986 §3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@". encodeURIComponent already
// leaves unreserved plus !'()* alone; these are the remaining pchar delimiters it escapes needlessly.
// "%", "/", "?", "#" and "\" are never in this set, so they are always re-encoded.
const KEEP_ESCAPED = /%(?:24|26|2B|2C|3A|3B|3D|40)/g;
const KEPT: Readonly<Record<string, string>> = {
  '%24': '$',
  '%26': '&',
  '%2B': '+',
  '%2C': ',',
  '%3A': ':',
  '%3B': ';',
  '%3D': '=',
  '%40': '@',
};

/** Percent-encodes one decoded segment for an upstream path (RFC 3986 pchar, UTF-8). */
export function encodePathSegment(segment: string): string {
  return encodeURIComponent(segment).replace(KEEP_ESCAPED, (m) => KEPT[m] ?? m);
}

/**
 * The upstream URL: the tool's base URL (its path kept), then each decoded segment re-encoded and
 * appended with "/", then the original raw query. A trailing "" segment yields a trailing slash, so
 * /tools/x/a/ → {base}/a/ and /tools/x → {base} exactly (both are distinct resources to many tools).
 */
export function buildUpstreamUrl(base: URL, segments: readonly string[], query: string): string {
  let basePath = base.pathname;
  if (basePath.endsWith('/')) basePath = basePath.slice(0, -1);
  let path = basePath;
  for (const segment of segments) path += `/${encodePathSegment(segment)}`;
  // A base URL's own query (unusual, but legal in config) is kept and the agent's query appended to it.
  let fullQuery = query;
  if (base.search !== '') fullQuery = query.length > 1 ? `${base.search}&${query.slice(1)}` : base.search;
  return `${base.origin}${path === '' ? '/' : path}${fullQuery}`;
}
