// SPEC §10 Idempotency-Key syntax, and the re-addressing of replayed MCP answers (SPEC §11).
import { describe, expect, it } from 'vitest';
import { parseIdempotencyKey } from '../../src/ledger/idempotency-key.js';
import { mcpDoneBody, rewriteJsonRpcId, withoutSessionHeaders } from '../../src/ledger/mcp-replay.js';

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
  });

  it('never replays the recorded Mcp-Session-Id or Set-Cookie (SPEC §11)', () => {
    const kept = withoutSessionHeaders({ 'content-type': 'application/json', 'mcp-session-id': 'old', 'Set-Cookie': ['a=1'], etag: 'x' });
    expect(kept).toEqual({ 'content-type': 'application/json', etag: 'x' });
  });

  it('answers a done resolution of tools/call as a tool result with the replay marker under the new id', () => {
    const body = JSON.parse(mcpDoneBody('led_1', 'req-9', 'tools/call').toString());
    expect(body).toMatchObject({ jsonrpc: '2.0', id: 'req-9', result: { _meta: { 'io.epochgate/replay': { replayed: true, resolution: 'done', entry_id: 'led_1' } } } });
    expect(body.result.content[0].text).toMatch(/already happened/);
    expect(body.result.isError).toBeUndefined();
    expect(body.result._meta['io.epochgate/problem']).toBeUndefined();
  });
});
