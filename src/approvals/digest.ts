// The action digest (SPEC §9.1): what a person approves is exactly this value, so two calls share an
// approval iff they have the same digest. SHA-256 over a canonical JSON envelope of tool, method,
// normalised path, query and body. A JSON body is canonicalised (sorted keys, no insignificant
// whitespace, shortest numbers: util/canonical-json.ts) so semantically equal JSON gives the same digest;
// for an MCP message (SPEC §9.1): the JSON-RPC method, the normalised path and query it was posted to, and
// the MCP tool name and canonical arguments (other methods: their params) — never the JSON-RPC id or _meta,
// so a retry with a new id is the same action, and the same call posted to another endpoint is not.
//
// Canonicalising must never make two DIFFERENT actions equal, since that would let an approval be used for
// another action. So a body is canonicalised only when that is lossless for any reasonable upstream parser;
// otherwise its raw bytes are digested (stricter: at worst a retry needs a new approval). Not canonicalised:
// - invalid UTF-8 (decoding would turn different bytes into the same U+FFFD) and a leading BOM;
// - duplicate member names (JSON.parse keeps the last, other parsers the first: {"amount":1,"amount":900});
// - a number literal whose value a double cannot hold exactly as written (12345678901234567891 and
//   12345678901234567890 are one double), and -0.
import { canonicalJson } from '../util/canonical-json.js';
import { sha256Hex } from '../util/hash.js';
import { JsonTooDeepError, parseStrictJson } from '../util/strict-json.js';

export interface ActionFacts {
  /** Gateway tool name (an MCP tool name is only unique within its server). */
  readonly tool: string;
  readonly method: string;
  /** Normalised path below the tool. */
  readonly path: string;
  /** Raw query including "?", or "" — forwarded as is, so digested as is. */
  readonly query: string;
  readonly body: Uint8Array | null;
  /** The request's Content-Type header, if any. */
  readonly contentType: string | undefined;
  /** Set for an MCP tools/call (params.name). */
  readonly mcpTool: string | undefined;
  /** The JSON-RPC method of an MCP message; set for every POSTed MCP message. `mcpTool` alone = tools/call. */
  readonly mcpMethod?: string | undefined;
}

/** Bumped if the envelope ever changes, so old and new digests can never collide. 2: MCP digests carry
 *  the JSON-RPC method, path and query. */
const DIGEST_VERSION = 2;

export function actionDigest(facts: ActionFacts): string {
  const mcpMethod = facts.mcpMethod ?? (facts.mcpTool !== undefined ? 'tools/call' : undefined);
  if (mcpMethod !== undefined) return mcpDigest(facts, mcpMethod);
  return sha256Hex(
    canonicalJson({
      v: DIGEST_VERSION,
      kind: 'http',
      tool: facts.tool,
      method: facts.method.toUpperCase(),
      path: facts.path,
      query: facts.query,
      body: bodyPart(facts.body, facts.contentType),
    }),
  );
}

function mcpDigest(facts: ActionFacts, mcpMethod: string): string {
  const message = facts.body === null ? undefined : canonicalJsonValue(facts.body);
  const params = isObject(message) ? (message.params ?? {}) : undefined;
  let what: Record<string, unknown>;
  // A message we cannot read losslessly is digested whole (id included): it can only ever match itself.
  if (!isObject(params)) what = { raw_sha256: sha256Hex(facts.body ?? new Uint8Array()) };
  else if (mcpMethod === 'tools/call') what = { mcp_tool: facts.mcpTool ?? params.name ?? null, arguments: params.arguments ?? null };
  else what = { params: withoutMeta(params) };
  return sha256Hex(
    canonicalJson({
      v: DIGEST_VERSION,
      kind: 'mcp',
      tool: facts.tool,
      method: facts.method.toUpperCase(),
      path: facts.path,
      query: facts.query,
      mcp_method: mcpMethod,
      ...what,
    }),
  );
}

/** params minus `_meta` (progress tokens and the like: transport, not the action). */
function withoutMeta(params: Record<string, unknown>): Record<string, unknown> {
  const { _meta: _ignored, ...rest } = params;
  return rest;
}

function bodyPart(body: Uint8Array | null, contentType: string | undefined): unknown {
  if (body === null || body.length === 0) return null;
  const media = mediaType(contentType);
  if (isJsonMedia(media)) {
    const value = canonicalJsonValue(body);
    if (value !== undefined) return { json: value };
  }
  // Raw bytes: the media type is part of the action (the same bytes mean other things as other types).
  return { media, sha256: sha256Hex(body) };
}

/** The parsed JSON value when canonicalising `body` is lossless (see the header), else undefined. */
export function canonicalJsonValue(body: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    return undefined;
  }
  let value: unknown;
  try {
    value = parseStrictJson(text); // a BOM kept by ignoreBOM makes this throw: not canonicalised
  } catch (err) {
    // SPEC §8: JSON nested deeper than the limit is refused (the runner maps it to bad_request), not digested.
    if (err instanceof JsonTooDeepError) throw err;
    return undefined;
  }
  return numbersAreExact(text) ? value : undefined;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** True when every number literal in `text` (valid JSON) survives a trip through a double unchanged. */
function numbersAreExact(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i = stringEnd(text, i);
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const literal = NUMBER.exec(text)![0];
      const value = Number(literal);
      if (!Number.isFinite(value) || !sameDecimal(literal, String(value))) return false;
      i += literal.length - 1;
    }
  }
  return true;
}

/** Whether two decimal numerals denote the same value: compares sign, significant digits and exponent. */
function sameDecimal(a: string, b: string): boolean {
  const x = decimal(a);
  const y = decimal(b);
  return x.negative === y.negative && x.digits === y.digits && (x.digits === '' || x.exponent === y.exponent);
}

/** -12.50e3 → { negative, digits: "125", exponent: 4 } (value = 0.digits × 10^exponent). */
function decimal(numeral: string): { negative: boolean; digits: string; exponent: number } {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(numeral)!;
  const whole = match[2]!;
  const all = whole + (match[3] ?? '');
  const leading = all.length - all.replace(/^0+/, '').length;
  const digits = all.slice(leading).replace(/0+$/, '');
  return { negative: match[1] === '-', digits, exponent: whole.length - leading + Number(match[4] ?? 0) };
}

function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) i++;
    else if (c === 0x22) return i;
  }
  return text.length;
}

/** "Application/JSON; charset=utf-8" → "application/json"; "" when absent. */
function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

function isJsonMedia(media: string): boolean {
  return media === 'application/json' || (media.startsWith('application/') && media.endsWith('+json'));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
