import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/util/canonical-json.js';
import { parseDuration } from '../../src/util/duration.js';
import { safeAuditPath } from '../../src/pipeline/audit-path.js';
import { bearerToken } from '../../src/http/authorization.js';
import { parseMcpMessage } from '../../src/mcp/classify.js';
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
    expect(canonicalJson(JSON.parse('{"n":1.0}'))).toBe('{"n":1}');
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
  it('redacts only a whole first segment of three dot-separated parts', () => {
    expect(safeAuditPath('/a.b.c.d')).toBe('/a.b.c.d');
    expect(safeAuditPath('/v~a.b.c')).toBe('/v~a.b.c');
    expect(safeAuditPath('/a.b.c~v')).toBe('/a.b.c~v');
  });
  it('answers / for a target that is not origin-form', () => {
    expect(safeAuditPath('http://host/eyJhbGc.x.y')).toBe('/');
    expect(safeAuditPath('*')).toBe('/');
  });
  it('redacts a first segment longer than 64 characters, JWS-like or not', () => {
    expect(safeAuditPath(`/${'a'.repeat(64)}/x`)).toBe(`/${'a'.repeat(64)}`);
    expect(safeAuditPath(`/${'a'.repeat(65)}/x`)).toBe('/[redacted]');
  });
});

describe('bearerToken', () => {
  it('answers token_missing with no header and token_invalid for another scheme', () => {
    expect(codeOf(() => bearerToken(undefined))).toBe('token_missing');
    expect(codeOf(() => bearerToken('Basic dXNlcjpwYXNz'))).toBe('token_invalid');
    expect(bearerToken('bearer abc.def.ghi')).toBe('abc.def.ghi');
  });
});

describe('parseMcpMessage', () => {
  const parse = (text: string) => parseMcpMessage(Buffer.from(text));
  it('names the tool of a tools/call, the resource of resources/read and the prompt of prompts/get', () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_x', arguments: {} } });
    expect(parse(body)).toEqual({ method: 'tools/call', toolName: 'search_x', id: 1, resourceUri: undefined, promptName: undefined });
    expect(parse('{"jsonrpc":"2.0","id":2,"method":"resources/subscribe","params":{"uri":"crm://c/1"}}').resourceUri).toBe('crm://c/1');
    expect(parse('{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"p"}}').promptName).toBe('p');
  });
  it('keeps the id of a request only (SPEC §11: notifications and responses have nothing to answer)', () => {
    expect(parse('{"jsonrpc":"2.0","id":"a","method":"tools/list"}').id).toBe('a');
    expect(parse('{"jsonrpc":"2.0","method":"notifications/initialized"}').id).toBeUndefined();
    expect(parse('{"jsonrpc":"2.0","id":3,"result":{}}').id).toBeUndefined();
    expect(parse('{"jsonrpc":"2.0","id":null,"method":"ping"}').id).toBeUndefined();
  });
  it.each([
    ['a batch', '[{"jsonrpc":"2.0","id":1,"method":"tools/call"}]', -32600],
    ['not JSON', '{nope', -32700],
    ['a duplicate top-level member', '{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"x"}}', -32700],
    ['a duplicate nested member', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"safe","name":"delete_all"}}', -32700],
    ['a duplicate deep in the arguments', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"x":{"y":1,"y":2}}}}', -32700],
    ['a scalar', '42', -32600],
    ['no jsonrpc member', '{"id":1,"method":"ping"}', -32600],
    ['tools/call without a name', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}', -32602],
    ['resources/read without a uri', '{"jsonrpc":"2.0","id":1,"method":"resources/read"}', -32602],
  ])('refuses %s with 400 bad_request carrying JSON-RPC error %i', (_what, text, jsonRpcCode) => {
    let caught: unknown;
    try {
      parse(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    const error = caught as GatewayError;
    expect(error.code).toBe('bad_request');
    expect(error.status).toBe(400);
    expect(error.fields).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: jsonRpcCode } });
  });
});
