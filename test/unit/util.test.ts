import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/util/canonical-json.js';
import { parseDuration } from '../../src/util/duration.js';
import { safeAuditPath } from '../../src/pipeline/audit-path.js';
import { bearerToken } from '../../src/sessions/bearer.js';
import { classifyMcpBody } from '../../src/mcp/classify.js';
import { GatewayError } from '../../src/errors/gateway-error.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof GatewayError ? err.code : 'not-a-gateway-error';
  }
  return undefined;
};

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });
  it('gives 1.0 and 1 the same form', () => {
    expect(canonicalJson(JSON.parse('{"n":1.0}'))).toBe(canonicalJson({ n: 1 }));
  });
  it('keeps unicode and escapes as JSON does', () => {
    expect(canonicalJson({ 'é': 'ü\n"' })).toBe('{"é":"ü\\n\\""}');
  });
});

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['15s', 15_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', '15', 'm', '1.5h', '-1s', '1 h', '1H', '1w'])('refuses %j', (text) => expect(parseDuration(text)).toBeUndefined());
});

describe('safeAuditPath', () => {
  it('cuts an unrouted path to its first segment, without the query', () => {
    expect(safeAuditPath('/s/eyJhbGc.x.y/tools/billing/a?token=zzz')).toBe('/s');
    expect(safeAuditPath('/s/eyJhbGc.x.y')).toBe('/s');
    expect(safeAuditPath('//s/eyJhbGc.x.y/tools/billing')).toBe('/');
    expect(safeAuditPath('/nope?x=eyJhbGc.x.y')).toBe('/nope');
  });
  it('writes a first segment that looks like a compact JWS as [redacted]', () => {
    expect(safeAuditPath('/eyJhbGc.eyJzdWIi.c2ln/tools/x')).toBe('/[redacted]');
    expect(safeAuditPath('/aaaa%2Ebbbb%2ecccc')).toBe('/[redacted]');
    expect(safeAuditPath('/aaaa.bbbb.cccc;x')).toBe('/[redacted]');
    expect(safeAuditPath('/%65yJhbGc%2Ex%2Ey')).toBe('/[redacted]');
    expect(safeAuditPath('/favicon.ico')).toBe('/favicon.ico');
  });
});

describe('bearerToken', () => {
  it('answers token_missing with no header and token_invalid for another scheme', () => {
    expect(codeOf(() => bearerToken(undefined))).toBe('token_missing');
    expect(codeOf(() => bearerToken('Basic dXNlcjpwYXNz'))).toBe('token_invalid');
    expect(bearerToken('bearer abc.def.ghi')).toBe('abc.def.ghi');
  });
});

describe('classifyMcpBody', () => {
  it('names the tool of a tools/call', () => {
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_x', arguments: {} } }));
    expect(classifyMcpBody(body)).toEqual({ method: 'tools/call', toolName: 'search_x', id: 1 });
  });
  it('keeps the id of a request only (SPEC §11: notifications and responses have nothing to answer)', () => {
    expect(classifyMcpBody(Buffer.from('{"jsonrpc":"2.0","id":"a","method":"tools/list"}')).id).toBe('a');
    expect(classifyMcpBody(Buffer.from('{"jsonrpc":"2.0","method":"notifications/initialized"}')).id).toBeUndefined();
    expect(classifyMcpBody(Buffer.from('{"jsonrpc":"2.0","id":3,"result":{}}')).id).toBeUndefined();
    expect(classifyMcpBody(Buffer.from('{"jsonrpc":"2.0","id":null,"method":"ping"}')).id).toBeUndefined();
  });
  it('refuses batches, non-JSON and tools/call without a name with bad_request', () => {
    expect(codeOf(() => classifyMcpBody(Buffer.from('[{"method":"tools/call"}]')))).toBe('bad_request');
    expect(codeOf(() => classifyMcpBody(Buffer.from('{nope')))).toBe('bad_request');
    expect(codeOf(() => classifyMcpBody(Buffer.from('{"method":"tools/call","params":{}}')))).toBe('bad_request');
  });
});
