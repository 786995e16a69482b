// Property: whatever request target an agent sends, the gateway either refuses it (bad_request), does not
// route it, or forwards a path that stays below the tool's base, decodes exactly once, and carries no token.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../src/errors/gateway-error.js';
import { buildUpstreamUrl, parseDataPlaneTarget } from '../../src/upstream/request-target.js';

const BASE = new URL('http://tool.internal:9001/api/v2');
const TOKEN = 'eyJhbGciOiJFZERTQSJ9.eyJzaWQiOiJzZXNfeCJ9.c2lnbmF0dXJl';

// Pieces chosen to hit every rule: dot segments in all spellings, encoded separators, double encodings,
// semicolons, controls, the token, and plain text in between.
const PIECE = fc.constantFrom(
  'a', 'B', 'x y', '.', '..', '%2e', '%2E', '.%2e', '%2e%2e', '..;', '.;jsessionid=1', '%2e%2e;', '..%3b', ';',
  '%2f', '%2F', '%5c', '\\', '%25', '%252e', '%252e%252e', '%25%32%65', '%00', '%0a', '%7f', '%c0%ae', '%e2%80%ae',
  '%', '%2', '%zz', 's', 'S', '%73', 'tools', 'billing', 'admin', '~', '@', ':', '+', '=', '&', TOKEN, '',
);
const SEGMENT = fc.array(PIECE, { minLength: 1, maxLength: 3 }).map((parts) => parts.join(''));
const QUERY = fc.constantFrom('', '?a=1', `?t=${TOKEN}`, '?x=%2e%2e/', '?');
const TARGET = fc
  .tuple(fc.constantFrom('/tools/billing/', `/s/${TOKEN}/tools/billing/`, '//tools/billing/', '/%74ools/billing/', '/'), fc.array(SEGMENT, { maxLength: 6 }), QUERY)
  .map(([prefix, segments, query]) => `${prefix}${segments.join('/')}${query}`);

function outcome(target: string): ReturnType<typeof parseDataPlaneTarget> | 'bad_request' {
  try {
    return parseDataPlaneTarget(target);
  } catch (err) {
    if (isGatewayError(err) && err.code === 'bad_request') return 'bad_request';
    throw err; // anything else is a bug: the property fails with it
  }
}

describe('path normalisation (property)', () => {
  it('never forwards a path outside the tool base, never decodes twice, never forwards the path token', () => {
    fc.assert(
      fc.property(TARGET, (target) => {
        const parsed = outcome(target);
        if (parsed === 'bad_request' || parsed.kind !== 'tool') return;
        const url = buildUpstreamUrl(BASE, parsed.segments, parsed.query);
        const rawPath = url.slice(BASE.origin.length).split('?', 1)[0]!;
        // Below the base, segment by segment, and the upstream's own URL parser agrees (no dot resolution).
        expect(rawPath === BASE.pathname || rawPath.startsWith(`${BASE.pathname}/`)).toBe(true);
        expect(new URL(url).pathname).toBe(rawPath);
        const forwarded = rawPath.slice(BASE.pathname.length + 1).split('/');
        if (parsed.segments.length > 0) {
          // One decode of what the tool receives gives exactly the segments policy saw: never a second one.
          expect(forwarded.map((segment) => decodeURIComponent(segment))).toEqual(parsed.segments);
          for (const segment of forwarded) {
            expect(['.', '..']).not.toContain(decodeURIComponent(segment).split(';', 1)[0]);
          }
        }
        // The /s/{token}/ form's token is never part of what is forwarded or audited.
        if (parsed.pathToken !== undefined) {
          expect(url).not.toContain(parsed.pathToken);
          expect(parsed.auditPath).not.toContain(parsed.pathToken);
        }
        expect(parsed.auditPath).not.toContain(TOKEN);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses every dot segment, with or without path parameters, in any encoding', () => {
    const DOT = fc.constantFrom('.', '..', '%2e', '%2E', '.%2e', '%2e.', '%2e%2e');
    const PARAMS = fc.constantFrom('', ';', ';jsessionid=x', '%3b', '%3Bx');
    fc.assert(
      fc.property(DOT, PARAMS, fc.constantFrom('', '/x'), (dot, params, rest) => {
        expect(outcome(`/tools/billing/a/${dot}${params}${rest}`)).toBe('bad_request');
      }),
    );
  });
});
