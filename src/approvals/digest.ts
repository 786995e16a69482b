// The action digest (SPEC §9.1): what a person approves is exactly this value, so two calls share an
// approval iff they have the same digest. SHA-256 over a canonical JSON envelope of tool, method,
// normalised path, query and body. A JSON body is canonicalised (sorted keys, no insignificant
// whitespace, shortest numbers: util/canonical-json.ts) so semantically equal JSON gives the same digest;
// for an MCP tools/call only the tool name and canonical arguments count, never the JSON-RPC id or _meta.
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
  /** Set for an MCP tools/call: then only the tool and its arguments are digested. */
  readonly mcpTool: string | undefined;
}

/** Bumped if the envelope ever changes, so old and new digests can never collide. */
const DIGEST_VERSION = 1;

export function actionDigest(facts: ActionFacts): string {
  if (facts.mcpTool !== undefined) {
    const call = facts.body === null ? undefined : canonicalJsonValue(facts.body);
    const params = isObject(call) && isObject(call.params) ? call.params : undefined;
    // A message we cannot read losslessly is digested whole (id included): it can only ever match itself.
    const args = params === undefined ? { raw_sha256: sha256Hex(facts.body ?? new Uint8Array()) } : { arguments: params.arguments ?? null };
    return sha256Hex(canonicalJson({ v: DIGEST_VERSION, kind: 'mcp', tool: facts.tool, mcp_tool: facts.mcpTool, ...args }));
  }
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
