// JSON parsing that refuses duplicate member names.
//
// RFC 8259 §4 only says names SHOULD be unique, and JSON.parse silently keeps the LAST duplicate. For a
// signed token that is a parser-differential hazard (RFC 8725 §3.4, RFC 7515 §5.2: "the JWS Header MUST
// contain no duplicate Header Parameter names"): two parsers can read different claims out of the same
// signed bytes. SPEC §6 step 2 therefore rejects duplicates in the header and the claims.
//
// Why no library: none is installed, and the job is small. JSON.parse does the parsing and validation
// (fast, native, exactly RFC 8259); this file only adds a linear scan, run on text JSON.parse already
// accepted, that tracks object nesting and compares member names after unescaping ("a" and "\u0061" are
// the same name). The scan relies on the text being valid JSON, which is why it runs second.

/** Thrown for a duplicate member name. `path` names the object holding it (never its value). */
export class DuplicateKeyError extends SyntaxError {
  constructor(
    readonly key: string,
    readonly path: string,
  ) {
    super(`duplicate member name ${JSON.stringify(key)} in ${path || 'the top-level object'}`);
    this.name = 'DuplicateKeyError';
  }
}

/** SPEC §8: JSON the gateway parses may nest at most this deep (a top-level object or array is level 1). */
export const MAX_JSON_DEPTH = 64;

/** Thrown for JSON nested deeper than the limit. Each plane maps it to its client-fault code (a client
 *  fault, never a store or internal error): invalid_request on the control plane, bad_request on the data plane. */
export class JsonTooDeepError extends SyntaxError {
  constructor(readonly limit: number) {
    super(`JSON nested deeper than ${limit} levels`);
    this.name = 'JsonTooDeepError';
  }
}

/**
 * True when `text` opens more than `limit` containers at once. A flat scan with a counter, run BEFORE any
 * parser: code that walks parsed values recursively (canonical JSON, schema validation) then never meets a
 * depth that could exhaust the stack. Works on any text: strings are skipped, nothing is validated.
 */
export function exceedsJsonDepth(text: string, limit: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) i = stringEnd(text, i);
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > limit) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return false;
}

/** JSON.parse bounded in depth: deeper than `maxDepth` throws JsonTooDeepError before anything is parsed. */
export function parseJsonWithin(text: string, maxDepth: number = MAX_JSON_DEPTH): unknown {
  if (exceedsJsonDepth(text, maxDepth)) throw new JsonTooDeepError(maxDepth);
  return JSON.parse(text);
}

/** JSON.parse, but a duplicate member name at any depth throws DuplicateKeyError, and nesting deeper than
 *  MAX_JSON_DEPTH throws JsonTooDeepError. Invalid JSON throws SyntaxError as JSON.parse does. */
export function parseStrictJson(text: string): unknown {
  const value: unknown = parseJsonWithin(text);
  // Only objects can hold duplicates; skip the scan for scalars.
  if (value !== null && typeof value === 'object') {
    const duplicate = findDuplicateKey(text);
    if (duplicate) throw new DuplicateKeyError(duplicate.key, duplicate.path);
  }
  return value;
}

interface Frame {
  /** Member names seen so far; null for an array. */
  readonly names: Set<string> | null;
  /** The name (object) or index (array) of this container within its parent, for error paths. */
  readonly label: string;
  index: number;
}

/**
 * The first duplicate member name in `text`, or undefined. `text` MUST be valid JSON (call JSON.parse
 * first): the scan does not validate, it only follows structure.
 */
export function findDuplicateKey(text: string): { key: string; path: string } | undefined {
  const stack: Frame[] = [];
  // True right after `{` or after `,` inside an object: the next string is a member name.
  let expectName = false;
  // The most recent member name of the innermost object, used to label a nested container.
  let lastName = '';
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (expectName && top?.names) {
        const raw = text.slice(i + 1, end);
        // Unescape only when needed; JSON.parse of a valid JSON string token is exact.
        const name = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (top.names.has(name)) return { key: name, path: pathOf(stack) };
        top.names.add(name);
        lastName = name;
        expectName = false;
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const parent = stack[stack.length - 1];
      const label = parent === undefined ? '' : parent.names ? lastName : String(parent.index);
      stack.push({ names: c === 0x7b ? new Set() : null, label, index: 0 });
      expectName = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectName = false;
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top) {
        top.index++;
        expectName = top.names !== null;
      }
    }
  }
  return undefined;
}

/** Index of the closing quote of the string starting at `start`. Escapes are `\x` or `\uXXXX`; neither
 *  hides a quote except `\"`, which skipping one character after every backslash handles. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) i++;
    else if (c === 0x22) return i;
  }
  return text.length; // unreachable for valid JSON
}

function pathOf(stack: readonly Frame[]): string {
  return stack
    .slice(1)
    .map((frame) => frame.label)
    .join('.');
}
