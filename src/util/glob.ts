// Globs for policy selectors (SPEC §3), compiled once at load (DESIGN rule 3). No regular expression is
// built from policy text: matching is an iterative two-pointer walk (O(pattern × input) worst case), so a
// hostile pattern or path cannot cause catastrophic backtracking.
//
//   path globs: "*" matches any run of characters within one segment; "**" is a whole segment that
//               matches any number of whole segments, including none.
//   name globs: "*" matches any run of characters (MCP tool names, which have no segments).
//   URI globs:  the URI is split on "/" like a path (SPEC §3 mcp_resources): "*" within one segment, "**"
//               any number of segments ("crm://customers/*" is the segments "crm:", "", "customers", "*").

export type Matcher = (input: string) => boolean;

export type GlobResult = { readonly ok: true; readonly match: Matcher } | { readonly ok: false; readonly error: string };

// Characters other glob dialects give meaning to. Taken literally they would silently narrow a rule
// (fatal for a deny rule), so they are refused (DESIGN rule 4: a typo is a load error).
const RESERVED = /[?[\]{}!\\]/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Compiles a path glob such as "/invoices/**" or "/users/*" (leading "/" required). */
export function compilePathGlob(pattern: string): GlobResult {
  if (!pattern.startsWith('/')) return fail('must start with "/"');
  if (CONTROL.test(pattern)) return fail('must not contain control characters');
  if (RESERVED.test(pattern)) return fail('must not contain ? [ ] { } ! or \\ (only * and ** are wildcards)');
  if (pattern === '/') return ok(compileSegments([''], pathSegments));
  const segments = pattern.slice(1).split('/');
  for (const segment of segments) {
    if (segment === '') return fail('must not contain an empty segment ("//" or a trailing "/")');
    // Normalised paths never contain dot segments (SPEC §8), so a glob naming one could never match.
    if (segment === '.' || segment === '..') return fail('must not contain "." or ".." segments');
    if (segment.includes('**') && segment !== '**') return fail('"**" must be a whole segment');
  }
  return ok(compileSegments(segments, pathSegments));
}

/** Compiles a resource URI glob such as "crm://customers/*" (MCP resources/read params.uri). */
export function compileUriGlob(pattern: string): GlobResult {
  if (pattern === '') return fail('must not be empty');
  if (CONTROL.test(pattern)) return fail('must not contain control characters');
  if (RESERVED.test(pattern)) return fail('must not contain ? [ ] { } ! or \\ (only * and ** are wildcards)');
  const segments = pattern.split('/');
  if (segments.some((segment) => segment.includes('**') && segment !== '**')) return fail('"**" must be a whole segment');
  return ok(compileSegments(segments, (uri) => uri.split('/')));
}

/** Compiles a name glob such as "search_*" (MCP tools/call params.name). */
export function compileNameGlob(pattern: string): GlobResult {
  if (pattern === '') return fail('must not be empty');
  if (CONTROL.test(pattern)) return fail('must not contain control characters');
  if (RESERVED.test(pattern)) return fail('must not contain ? [ ] { } ! or \\ (only * is a wildcard)');
  return ok(compileWithin(pattern));
}

function ok(match: Matcher): GlobResult {
  return { ok: true, match };
}

function fail(error: string): GlobResult {
  return { ok: false, error };
}

/** Splits on the leading "/" exactly as the normaliser joins (SPEC §8): "/" → [""], "/a/" → ["a", ""]. */
function pathSegments(path: string): string[] | undefined {
  return path.startsWith('/') ? path.slice(1).split('/') : undefined;
}

type SegmentMatcher = Matcher | 'globstar';

function compileSegments(segments: readonly string[], split: (input: string) => string[] | undefined): Matcher {
  const compiled: SegmentMatcher[] = [];
  for (const segment of segments) {
    // "**/**" is the same as "**"; collapsing keeps the walk simple.
    if (segment === '**' && compiled[compiled.length - 1] === 'globstar') continue;
    compiled.push(segment === '**' ? 'globstar' : compileWithin(segment));
  }
  return (path) => {
    const input = split(path);
    return input !== undefined && walk(compiled.length, input.length, (p) => compiled[p] === 'globstar', (p, i) => {
      const m = compiled[p];
      return typeof m === 'function' && m(input[i] ?? '');
    });
  };
}

/** A matcher for one segment or name where "*" is any run of characters. */
function compileWithin(text: string): Matcher {
  if (!text.includes('*')) return (input) => input === text;
  const chars = [...text.replace(/\*+/g, '*')];
  return (input) => {
    const units = [...input];
    return walk(chars.length, units.length, (p) => chars[p] === '*', (p, i) => chars[p] === units[i]);
  };
}

/**
 * Classic wildcard walk: elements either match one input item (`one`) or are a star matching any
 * sequence (`isStar`). On a mismatch only the most recent star is widened; earlier stars never need
 * revisiting because a later star can absorb anything they could, which keeps this polynomial.
 */
function walk(patternLength: number, inputLength: number, isStar: (p: number) => boolean, one: (p: number, i: number) => boolean): boolean {
  let p = 0;
  let i = 0;
  let starP = -1;
  let starI = 0;
  while (i < inputLength) {
    if (p < patternLength && !isStar(p) && one(p, i)) {
      p += 1;
      i += 1;
    } else if (p < patternLength && isStar(p)) {
      starP = p;
      starI = i;
      p += 1;
    } else if (starP !== -1) {
      p = starP + 1;
      starI += 1;
      i = starI;
    } else {
      return false;
    }
  }
  while (p < patternLength && isStar(p)) p += 1;
  return p === patternLength;
}
