import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { buildUpstreamUrl, encodePathSegment, parseDataPlaneTarget } from '../../src/upstream/request-target.js';

function tool(rawUrl: string) {
  const t = parseDataPlaneTarget(rawUrl);
  if (t.kind !== 'tool') throw new Error(`expected a tool route for ${rawUrl}`);
  return t;
}

function rejects(rawUrl: string): GatewayError {
  try {
    parseDataPlaneTarget(rawUrl);
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('bad_request');
    return err as GatewayError;
  }
  throw new Error(`expected bad_request for ${rawUrl}`);
}

const BASE = new URL('http://127.0.0.1:9001/api');

describe('parseDataPlaneTarget: routes', () => {
  it('parses /tools/{tool}/{rest} into decoded segments, path, query and auditPath', () => {
    const t = tool('/tools/billing/invoices/1?x=1&y=%2F');
    expect(t).toEqual({
      kind: 'tool',
      tool: 'billing',
      segments: ['invoices', '1'],
      path: '/invoices/1',
      query: '?x=1&y=%2F',
      auditPath: '/tools/billing/invoices/1',
    });
    expect(t.pathToken).toBeUndefined();
  });

  it('parses /tools/{tool} with no rest as path "/" and no segments', () => {
    const t = tool('/tools/billing');
    expect(t.segments).toEqual([]);
    expect(t.path).toBe('/');
    expect(t.auditPath).toBe('/tools/billing');
  });

  it('parses the /s/{token}/tools/ form and keeps the token out of auditPath', () => {
    const token = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhIn0.c2ln';
    const t = tool(`/s/${token}/tools/billing/invoices/1?q=1`);
    expect(t.pathToken).toBe(token);
    expect(t.tool).toBe('billing');
    expect(t.segments).toEqual(['invoices', '1']);
    expect(t.auditPath).toBe('/tools/billing/invoices/1');
    expect(t.auditPath).not.toContain(token);
    expect(t.query).toBe('?q=1');
  });

  it('never decodes the token segment', () => {
    expect(tool('/s/a%41b/tools/x').pathToken).toBe('a%41b');
  });

  it.each(['/', '/tools', '/tools/', '/foo/bar', '/s/tok/tools', '/s/tok', '/s/', '/toolsx/a', '/v1/sessions'])(
    'answers kind other for %s',
    (url) => {
      expect(parseDataPlaneTarget(url)).toEqual({ kind: 'other' });
    },
  );

  it.each(['/tools/-bad/x', '/tools/.hidden', `/tools/${'a'.repeat(65)}`, '/tools/b%20c', '/tools/é'.replace('é', '%C3%A9')])(
    'answers kind other for an invalid tool name %s',
    (url) => {
      expect(parseDataPlaneTarget(url)).toEqual({ kind: 'other' });
    },
  );

  it('accepts a 64-character tool name with _ . -', () => {
    const name = `a${'_.-9'.repeat(15)}xyz`;
    expect(tool(`/tools/${name}/x`).tool).toBe(name);
  });

  it('preserves the raw query, including an empty "?"', () => {
    expect(tool('/tools/x/a?').query).toBe('?');
    expect(tool('/tools/x/a?b=%20&c').query).toBe('?b=%20&c');
    expect(tool('/tools/x/a').query).toBe('');
  });

  it('represents a trailing slash as a trailing empty segment', () => {
    const t = tool('/tools/x/a/');
    expect(t.segments).toEqual(['a', '']);
    expect(t.path).toBe('/a/');
  });

  it('treats ";" as an ordinary character', () => {
    const t = tool('/tools/x/a;b=1/c;');
    expect(t.segments).toEqual(['a;b=1', 'c;']);
  });

  it('decodes percent-encoding once (UTF-8)', () => {
    expect(tool('/tools/x/caf%C3%A9/a%20b').segments).toEqual(['café', 'a b']);
  });

  it('keeps %252e as the three characters %2e (a decoded % is never decoded again)', () => {
    const t = tool('/tools/x/%252e/%252e%252e/a');
    expect(t.segments).toEqual(['%2e', '%2e%2e', 'a']);
  });
});

describe('parseDataPlaneTarget: rejected targets (bad_request)', () => {
  it('rejects absolute-form', () => rejects('http://evil.example/tools/x/a'));
  it('rejects authority-form', () => rejects('evil.example:443'));
  it('rejects asterisk-form', () => rejects('*'));
  it('rejects an empty target', () => rejects(''));

  it.each([
    ['raw .', '/tools/x/./a'],
    ['raw ..', '/tools/x/../y/a'],
    ['trailing ..', '/tools/x/a/..'],
    ['%2e', '/tools/x/%2e/a'],
    ['%2E', '/tools/x/%2E/a'],
    ['.%2e', '/tools/x/.%2e/a'],
    ['%2e.', '/tools/x/%2e./a'],
    ['%2e%2e', '/tools/x/%2e%2e/a'],
    ['%2E%2E', '/tools/x/%2E%2E/a'],
    ['.. before the tool', '/tools/../tools/x'],
    ['.. as the token segment', '/s/../tools/x/a'],
    ['%2e%2e as the first segment', '/%2e%2e/tools/x'],
  ])('rejects a dot segment: %s', (_name, url) => {
    rejects(url);
  });

  it.each([
    ['%2f', '/tools/x/a%2fb'],
    ['%2F', '/tools/x/a%2Fb'],
    ['%5c', '/tools/x/a%5cb'],
    ['%5C', '/tools/x/a%5Cb'],
    ['raw \\', '/tools/x/a\\b'],
    ['raw \\ with dots', '/tools/x/..\\a'],
    ['%2e%2e%2f', '/tools/x/%2e%2e%2fsecret'],
  ])('rejects an encoded or raw separator: %s', (_name, url) => {
    rejects(url);
  });

  it.each([
    ['%00', '/tools/x/a%00b'],
    ['%0a', '/tools/x/a%0ab'],
    ['%0D', '/tools/x/a%0Db'],
    ['%09', '/tools/x/a%09b'],
    ['%7f', '/tools/x/a%7fb'],
    ['%C2%85 (C1 NEL)', '/tools/x/a%C2%85b'],
    ['raw NUL', '/tools/x/a\u0000b'],
    ['raw LF', '/tools/x/a\nb'],
    ['raw TAB', '/tools/x/a\tb'],
    ['raw DEL', '/tools/x/a\u007fb'],
    ['raw control char in the query', '/tools/x/a?b=\u0001'],
    ['raw non-ASCII', '/tools/x/café'],
  ])('rejects a control or raw non-ASCII character: %s', (_name, url) => {
    rejects(url);
  });

  it.each([
    ['%zz', '/tools/x/a%zzb'],
    ['truncated %4', '/tools/x/a%4'],
    ['lone %', '/tools/x/a%'],
    ['%g0', '/tools/x/%g0'],
  ])('rejects invalid percent-encoding: %s', (_name, url) => {
    rejects(url);
  });

  it.each([
    ['lone continuation byte', '/tools/x/%80'],
    ['truncated sequence', '/tools/x/%C3'],
    ['overlong encoding of /', '/tools/x/%C0%AF'],
    ['UTF-16 surrogate', '/tools/x/%ED%A0%80'],
  ])('rejects invalid UTF-8 after decoding: %s', (_name, url) => {
    rejects(url);
  });

  it.each([
    ['interior //', '/tools/x/a//b'],
    ['// after tools', '/tools//x/a'],
    ['leading //', '//tools/x/a'],
    ['empty token segment', '/s//tools/x/a'],
  ])('rejects an empty segment: %s', (_name, url) => {
    rejects(url);
  });

  it('rejects a raw "#"', () => rejects('/tools/x/a#frag'));

  it('never puts the token in an error detail', () => {
    const err = rejects('/s/SECRET.TOKEN.X/tools/x/%2e%2e/a');
    expect(err.message).not.toContain('SECRET');
  });
});

describe('buildUpstreamUrl', () => {
  it('appends the re-encoded segments to the base path and keeps the query', () => {
    expect(buildUpstreamUrl(BASE, ['invoices', '1'], '?x=1')).toBe('http://127.0.0.1:9001/api/invoices/1?x=1');
  });

  it('forwards the decoded %2e (from %252e) re-encoded as %252e', () => {
    const t = tool('/tools/x/%252e%252e/a');
    expect(buildUpstreamUrl(BASE, t.segments, t.query)).toBe('http://127.0.0.1:9001/api/%252e%252e/a');
  });

  it('keeps pchar sub-delims as is and encodes % / ? # \\ and spaces', () => {
    expect(encodePathSegment(";:@!$&'()*+,=")).toBe(";:@!$&'()*+,=");
    expect(encodePathSegment('a%/?#\\ b')).toBe('a%25%2F%3F%23%5C%20b');
    expect(encodePathSegment('café')).toBe('caf%C3%A9');
  });

  it('uses the base URL exactly for /tools/{tool} and adds "/" only for a trailing slash', () => {
    expect(buildUpstreamUrl(BASE, [], '')).toBe('http://127.0.0.1:9001/api');
    expect(buildUpstreamUrl(BASE, [''], '')).toBe('http://127.0.0.1:9001/api/');
    expect(buildUpstreamUrl(BASE, ['a', ''], '?q')).toBe('http://127.0.0.1:9001/api/a/?q');
  });

  it('works with a root base URL', () => {
    const root = new URL('http://up.example:8080');
    expect(buildUpstreamUrl(root, [], '')).toBe('http://up.example:8080/');
    expect(buildUpstreamUrl(root, ['a'], '?b')).toBe('http://up.example:8080/a?b');
  });

  it('never resolves a segment relative to the base (a segment that looks like a URL stays a segment)', () => {
    expect(buildUpstreamUrl(BASE, ['http:', 'evil.example'], '')).toBe('http://127.0.0.1:9001/api/http:/evil.example');
  });

  it('round-trips a parsed target with ";" unchanged', () => {
    const t = tool('/tools/x/a;b=1/c?d=1');
    expect(buildUpstreamUrl(BASE, t.segments, t.query)).toBe('http://127.0.0.1:9001/api/a;b=1/c?d=1');
  });
});

// Mutation run (docs/testing.md): the refusals above checked the code only; these pin the exact detail each
// refusal carries (it is part of the problem+json answer), and the decoding paths the mutants left untested.
describe('parseDataPlaneTarget: the detail of each refusal', () => {
  // One test over the table (no "%" from a target in a test title: the mutation runner matches tests by title).
  const REFUSALS: [string, string][] = [
    ['tools/x/a', 'Request target must be origin-form'],
    ['/tools/x/\u00e9', 'Request target contains a raw control or non-ASCII character'],
    ['/tools/x/a#f', 'Request target contains "#"'],
    ['/tools/x/a\\b', 'Request target contains "\\"'],
    ['/s/../tools/x/a', 'Malformed token path segment'],
    ['/s/./tools/x/a', 'Malformed token path segment'],
    ['/s//tools/x/a', 'Malformed token path segment'],
    ['//tools/x/a', 'Empty path segment'],
    ['/tools/x//a', 'Empty path segment'],
    ['/tools/x/a%4', 'Invalid percent-encoding in path'],
    ['/tools/x/a%g1', 'Invalid percent-encoding in path'],
    ['/tools/x/a%1g', 'Invalid percent-encoding in path'],
    ['/tools/x/%C3', 'Path is not valid UTF-8 after decoding'],
    ['/tools/x/%2e%2E', 'Dot segment in path'],
    ['/tools/x/a%2fb', 'Encoded separator or control character in path'],
    ['/tools/x/a%09b', 'Encoded separator or control character in path'],
    ['/s/tok/tools/x/a/tok', 'The path token appears again in the path or query'],
  ];
  it('refuses each malformed target with bad_request and its exact detail', () => {
    for (const [target, detail] of REFUSALS) expect(rejects(target).message, target).toBe(detail);
  });
});

describe('parseDataPlaneTarget: decoding', () => {
  it('decodes upper- and lower-case hex digits at every boundary (0 9 A F a f)', () => {
    expect(tool('/tools/x/%30%39%41%46%61%66%4A%4F%6a%6F%7A').segments).toEqual(['09AFafJOjoz']);
  });

  it('keeps a decoded byte-order mark in the segment (it is not stripped)', () => {
    expect(tool('/tools/x/%EF%BB%BFa').segments).toEqual(['\ufeffa']);
  });

  it('keeps the token segment raw even when it is not valid percent-encoding', () => {
    expect(tool('/s/a%zzb/tools/x/c').pathToken).toBe('a%zzb');
  });

  it('writes a segment holding a compact JWS, signed or not, as [redacted] in auditPath', () => {
    expect(tool('/tools/x/a/eyJhbGc.eyJzdWIi.').auditPath).toBe('/tools/x/a/[redacted]');
    expect(tool('/tools/x/eyJhbGc.eyJzdWIi.c2ln').auditPath).toBe('/tools/x/[redacted]');
    expect(tool('/tools/x/file.tar.gz').auditPath).toBe('/tools/x/file.tar.gz');
  });
});

describe('buildUpstreamUrl: a base URL with its own query', () => {
  const withQuery = new URL('http://127.0.0.1:9001/api?key=1');
  it('keeps the base query and appends the agent query after "&"', () => {
    expect(buildUpstreamUrl(withQuery, ['a'], '?x=2')).toBe('http://127.0.0.1:9001/api/a?key=1&x=2');
  });
  it('keeps the base query alone for no query or a bare "?"', () => {
    expect(buildUpstreamUrl(withQuery, ['a'], '')).toBe('http://127.0.0.1:9001/api/a?key=1');
    expect(buildUpstreamUrl(withQuery, ['a'], '?')).toBe('http://127.0.0.1:9001/api/a?key=1');
  });
});

describe('audit path of a token in the tool position', () => {
  it('redacts a JWS-looking tool segment in the audit path (found by the path-normalisation property)', () => {
    const jws = 'eyJhbGciOiJFZERTQSJ9.eyJzaWQiOiJzZXNfeCJ9.c2lnbmF0dXJl';
    const parsed = parseDataPlaneTarget(`/tools/${jws}`);
    expect(parsed).toMatchObject({ kind: 'tool', tool: jws, auditPath: '/tools/[redacted]' });
  });
});
