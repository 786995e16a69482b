// The Idempotency-Key syntax and the re-addressing of replayed MCP answers at their edges
// (src/ledger/idempotency-key.ts, src/ledger/mcp-replay.ts), written for the survivors of a mutation run
// (docs/testing.md): each refusal's own detail, quotes that are not a structured-field string, bodies that
// are not JSON-RPC responses, and content types and event-stream fields other than the ones rewritten.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { parseIdempotencyKey } from '../../src/ledger/idempotency-key.js';
import { mcpDoneBody, rewriteJsonRpcId, withoutSessionHeaders } from '../../src/ledger/mcp-replay.js';

function refusal(value: string | string[]): { code: string; status: number; detail: string } | 'accepted' {
  try {
    parseIdempotencyKey(value);
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    const e = err as GatewayError;
    return { code: e.code, status: e.status, detail: e.message };
  }
  return 'accepted';
}
const badRequest = (detail: string) => ({ code: 'bad_request', status: 400, detail });
const SF = 'The Idempotency-Key is not a valid structured-field string';

describe('parseIdempotencyKey: each refusal with its own detail', () => {
  it.each([
    ['two header values', ['a', 'b'], 'Send one Idempotency-Key header'],
    ['an empty value', '', 'The Idempotency-Key is empty'],
    ['an empty sf-string', '""', 'The Idempotency-Key is empty'],
    ['256 characters', 'k'.repeat(256), 'The Idempotency-Key is longer than 255 characters'],
    ['256 characters inside quotes', `"${'k'.repeat(256)}"`, 'The Idempotency-Key is longer than 255 characters'],
    ['a trailing space', 'a ', 'The Idempotency-Key must be printable ASCII'],
    ['a leading space', ' a', 'The Idempotency-Key must be printable ASCII'],
    ['a control character', 'a\u0001b', 'The Idempotency-Key must be printable ASCII'],
    ['a bare quote inside quotes', '"a"b"', SF],
    ['an escape of another character', '"a\\nb"', SF],
    ['an escape as the last character', '"ab\\"', SF],
  ] as const)('refuses %s', (_name, value, detail) => {
    expect(refusal(value as string | string[])).toEqual(badRequest(detail));
  });
});

describe('parseIdempotencyKey: quotes that do not make a structured-field string', () => {
  it.each([
    ['a lone quote', '"', '"'],
    ['a quote at the start only', '"abc', '"abc'],
    ['a quote at the end only', 'abc"', 'abc"'],
    ['a quote inside', 'a"b', 'a"b'],
  ])('takes %s as the bare key', (_name, value, key) => {
    expect(parseIdempotencyKey(value)).toBe(key);
  });

  it('unquotes 255 characters inside quotes, and an escaped backslash at the end', () => {
    expect(parseIdempotencyKey(`"${'k'.repeat(255)}"`)).toBe('k'.repeat(255));
    expect(parseIdempotencyKey('"a\\\\"')).toBe('a\\');
    expect(parseIdempotencyKey('"\\"x\\""')).toBe('"x"');
  });
});

describe('rewriteJsonRpcId: edges', () => {
  const json = { 'content-type': 'Application/JSON; charset=utf-8' };
  const sse = { 'content-type': 'Text/Event-Stream' };

  it('matches the content type in any case, with parameters', () => {
    const body = Buffer.from('{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"m"}}');
    expect(rewriteJsonRpcId(body, json, null).toString()).toBe('{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"m"}}');
  });

  it.each([
    ['not JSON', '{"id":1,'],
    ['an array', '[{"id":1,"result":{}}]'],
    ['null', 'null'],
    ['a string', '"x"'],
    ['a request (no result, no error)', '{"jsonrpc":"2.0","id":1,"method":"ping"}'],
    ['a result without an id', '{"jsonrpc":"2.0","result":{}}'],
  ])('returns the very same JSON body when it is %s', (_name, text) => {
    const body = Buffer.from(text);
    expect(rewriteJsonRpcId(body, json, 9)).toBe(body);
  });

  it('re-addresses every response data line of an event stream, CRLF kept, other lines and data left as they were', () => {
    const body = Buffer.from('id: 1\r\ndata:{"id":1,"result":{}}\r\ndata: {"method":"note"}\r\ndata: nope\r\n\r\ndata:   {"id":2,"error":{}}\n\n');
    expect(rewriteJsonRpcId(body, sse, 'x').toString()).toBe(
      'id: 1\r\ndata: {"id":"x","result":{}}\r\ndata: {"method":"note"}\r\ndata: nope\r\n\r\ndata: {"id":"x","error":{}}\n\n',
    );
  });

  it('returns the very same event-stream body when no line is a response, and any body without a content type', () => {
    const body = Buffer.from('event: ping\ndata: {"method":"note"}\n\n');
    expect(rewriteJsonRpcId(body, sse, 'x')).toBe(body);
    const untyped = Buffer.from('{"id":1,"result":{}}');
    expect(rewriteJsonRpcId(untyped, {}, 'x')).toBe(untyped);
  });

  it('re-addresses an event stream with parameters, and leaves data lines of any other type alone', () => {
    const text = 'data: {"id":1,"result":{}}\n\n';
    expect(rewriteJsonRpcId(Buffer.from(text), { 'content-type': 'text/event-stream; charset=utf-8' }, 4).toString()).toBe('data: {"id":4,"result":{}}\n\n');
    const plain = Buffer.from(text);
    expect(rewriteJsonRpcId(plain, { 'content-type': 'text/plain' }, 4)).toBe(plain);
  });

  it('leaves an event id field alone even when its value reads as a response', () => {
    const body = Buffer.from('id:  {"jsonrpc":"2.0","id":1,"result":{}}\ndata: {"id":1,"result":{}}\n\n');
    expect(rewriteJsonRpcId(body, sse, 2).toString()).toBe('id:  {"jsonrpc":"2.0","id":1,"result":{}}\ndata: {"id":2,"result":{}}\n\n');
  });
});

describe('withoutSessionHeaders and mcpDoneBody: edges', () => {
  it('drops Mcp-Session-Id and Set-Cookie in any case, keeping every other header under its own name', () => {
    expect(withoutSessionHeaders({ 'Mcp-Session-Id': 'old', 'set-cookie': 'a=1', 'Content-Type': 'text/plain', 'x-mcp-session-id': 'k' })).toEqual({
      'Content-Type': 'text/plain',
      'x-mcp-session-id': 'k',
    });
  });

  it('keeps a recorded header named __proto__ as a header', () => {
    const recorded = JSON.parse('{"__proto__":"p","constructor":"c","mcp-session-id":"old"}') as Record<string, string>;
    const kept = withoutSessionHeaders(recorded);
    expect([Object.keys(kept), Object.hasOwn(kept, '__proto__') && kept['__proto__']]).toEqual([['__proto__', 'constructor'], 'p']);
  });

  it('answers a done tools/call with the exact text and marker, and any other method with the marker only', () => {
    const replay = { replayed: true, resolution: 'done', entry_id: 'led_1' };
    expect(JSON.parse(mcpDoneBody('led_1', 4, 'tools/call').toString())).toEqual({
      jsonrpc: '2.0',
      id: 4,
      result: {
        content: [{ type: 'text', text: 'This call already happened: an administrator recorded its earlier attempt as done (ledger entry led_1). It was not run again.' }],
        _meta: { 'io.epochgate/replay': replay },
      },
    });
    expect(JSON.parse(mcpDoneBody('led_1', 'r', 'resources/read').toString())).toEqual({ jsonrpc: '2.0', id: 'r', result: { _meta: { 'io.epochgate/replay': replay } } });
    expect(JSON.parse(mcpDoneBody('led_1', 'r', undefined).toString())).toEqual({ jsonrpc: '2.0', id: 'r', result: { _meta: { 'io.epochgate/replay': replay } } });
  });
});
