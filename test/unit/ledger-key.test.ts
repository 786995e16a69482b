// SPEC §10 Idempotency-Key syntax, and the re-addressing of replayed MCP answers (SPEC §11).
import { describe, expect, it } from 'vitest';
import { parseIdempotencyKey } from '../../src/ledger/idempotency-key.js';
import { jsonRpcRequestId, rewriteJsonRpcId } from '../../src/ledger/mcp-replay.js';

describe('parseIdempotencyKey', () => {
  it('accepts 1–255 printable ASCII characters, bare or as a structured-field string', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
    expect(parseIdempotencyKey('a')).toBe('a');
    expect(parseIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324')).toBe('8e03978e-40d5-43e8-bc93-6894a57f9324');
    expect(parseIdempotencyKey('"8e03978e"')).toBe('8e03978e');
    expect(parseIdempotencyKey('"a \\"quoted\\" \\\\ key"')).toBe('a "quoted" \\ key');
    expect(parseIdempotencyKey('k'.repeat(255))).toBe('k'.repeat(255));
    expect(parseIdempotencyKey('inner space')).toBe('inner space');
  });

  it.each([
    ['empty', ''],
    ['empty sf-string', '""'],
    ['256 characters', 'k'.repeat(256)],
    ['a control character', 'a\tb'],
    ['DEL', 'a\u007fb'],
    ['non-ASCII', 'clé'],
    ['a bad escape', '"a\\nb"'],
    ['an unescaped quote', '"a"b"'],
    ['a leading space inside quotes', '" a"'],
  ])('refuses %s with bad_request', (_name, value) => {
    expect(() => parseIdempotencyKey(value)).toThrow(expect.objectContaining({ code: 'bad_request' }));
  });
});

describe('rewriteJsonRpcId', () => {
  it('re-addresses a JSON answer and SSE data lines to the new id, and leaves other bodies alone', () => {
    const json = Buffer.from('{"jsonrpc":"2.0","id":1,"result":{"ok":true}}');
    expect(JSON.parse(rewriteJsonRpcId(json, { 'content-type': 'application/json' }, 'b').toString())).toEqual({ jsonrpc: '2.0', id: 'b', result: { ok: true } });
    const sse = Buffer.from('event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n');
    expect(rewriteJsonRpcId(sse, { 'content-type': 'text/event-stream' }, 7).toString()).toBe('event: message\ndata: {"jsonrpc":"2.0","id":7,"result":{}}\n\n');
    const text = Buffer.from('plain');
    expect(rewriteJsonRpcId(text, { 'content-type': 'text/plain' }, 7)).toBe(text);
    expect(jsonRpcRequestId(Buffer.from('{"id":"x","method":"tools/call"}'))).toBe('x');
    expect(jsonRpcRequestId(Buffer.from('{"method":"notifications/x"}'))).toBeUndefined();
  });
});
