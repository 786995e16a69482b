// SPEC §9.1: the action digest. Semantically equal JSON → same digest; any other difference → another digest.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { actionDigest, type ActionFacts } from '../../src/approvals/digest.js';
import { JsonTooDeepError } from '../../src/util/strict-json.js';

const JSON_TYPE = 'application/json';
const base: ActionFacts = { tool: 'billing', method: 'POST', path: '/refunds', query: '', body: null, contentType: JSON_TYPE, mcpTool: undefined };
const sha256 = (text: string | Uint8Array): string => createHash('sha256').update(text).digest('hex');
const digest = (body: string | Uint8Array | null, over: Partial<ActionFacts> = {}): string =>
  actionDigest({ ...base, body: typeof body === 'string' ? Buffer.from(body) : body, ...over });

describe('action digest (SPEC §9.1)', () => {
  it('is SHA-256 over the canonical envelope (a known answer computed here, not by the module)', () => {
    const envelope = '{"body":{"json":{"a":1}},"kind":"http","method":"POST","path":"/refunds","query":"","tool":"billing","v":2}';
    expect(digest('{"a":1}')).toBe(createHash('sha256').update(envelope).digest('hex'));
    expect(digest(' { "a" : 1 } ', { method: 'post' })).toBe(createHash('sha256').update(envelope).digest('hex'));
  });

  it('ignores key order and insignificant whitespace in JSON bodies, at every depth', () => {
    const a = digest('{"amount":5,"to":{"iban":"DE1","name":"Zoë"},"tags":["x","y"]}');
    expect(digest(' {\n  "to" : { "name":"Zoë" , "iban":"DE1" },\t"tags":[ "x", "y" ], "amount": 5 }\r\n')).toBe(a);
  });

  it('treats 1.0, 1, 1e0 and 10e-1 as the same number, but not 1 and "1"', () => {
    const one = digest('{"n":1}');
    for (const same of ['{"n":1.0}', '{"n":1e0}', '{"n":10e-1}', '{"n":1.000E+0}']) expect(digest(same)).toBe(one);
    expect(digest('{"n":"1"}')).not.toBe(one);
    expect(digest('{"n":true}')).not.toBe(one);
  });

  it('keeps array order and nesting significant', () => {
    expect(digest('{"a":[[1,2],[3]]}')).not.toBe(digest('{"a":[[2,1],[3]]}'));
    expect(digest('{"a":[[1,2],[3]]}')).not.toBe(digest('{"a":[[1],[2,3]]}'));
    expect(digest('{"a":[[1,2],[3]]}')).not.toBe(digest('{"a":[1,2,3]}'));
    expect(digest('{"a":[]}')).not.toBe(digest('{"a":{}}'));
  });

  it('treats a \\u escape and the raw character alike, but not other code points (no Unicode normalisation)', () => {
    const raw = digest('{"name":"é😀"}');
    expect(digest('{"name":"\\u00e9\\ud83d\\ude00"}')).toBe(raw);
    // e + COMBINING ACUTE ACCENT looks the same but is another string.
    expect(digest('{"name":"e\u0301😀"}')).not.toBe(raw);
    expect(digest('{"n\\u0061me":1}')).toBe(digest('{"name":1}'));
  });

  it('changes with one byte of the body, of either kind', () => {
    expect(digest('{"amount":50}')).not.toBe(digest('{"amount":51}'));
    expect(digest('amount=50', { contentType: 'application/x-www-form-urlencoded' })).not.toBe(
      digest('amount=51', { contentType: 'application/x-www-form-urlencoded' }),
    );
    expect(digest('{"a":1} ', { contentType: 'text/plain' })).not.toBe(digest('{"a":1}', { contentType: 'text/plain' }));
  });

  it('changes with tool, method, path and query, and with no body vs an empty JSON object', () => {
    const d = digest('{}');
    expect(digest('{}', { tool: 'crm' })).not.toBe(d);
    expect(digest('{}', { method: 'PUT' })).not.toBe(d);
    expect(digest('{}', { path: '/refunds/1' })).not.toBe(d);
    expect(digest('{}', { query: '?force=1' })).not.toBe(d);
    expect(digest(null)).not.toBe(d);
    expect(digest(null)).toBe(digest(new Uint8Array()));
  });

  it('digests the same bytes differently under another media type; +json and charset count as JSON', () => {
    expect(digest('{"a":1}', { contentType: 'text/plain' })).not.toBe(digest('{"a":1}'));
    expect(digest('{"a": 1}', { contentType: 'application/merge-patch+json' })).toBe(digest('{"a":1}', { contentType: 'application/merge-patch+json' }));
    expect(digest('{"a": 1}', { contentType: 'Application/JSON; charset=utf-8' })).toBe(digest('{"a":1}'));
  });

  it('never canonicalises what could make two different actions equal', () => {
    // Duplicate names: JSON.parse keeps the last, other parsers the first.
    expect(digest('{"amount":900,"amount":1}')).not.toBe(digest('{"amount":1}'));
    // Integers beyond 2^53 that one double cannot tell apart.
    expect(digest('{"id":12345678901234567891}')).not.toBe(digest('{"id":12345678901234567890}'));
    expect(digest('{"x":0.10000000000000000001}')).not.toBe(digest('{"x":0.1}'));
    expect(digest('{"x":1e400}')).not.toBe(digest('{"x":2e400}'));
    expect(digest('{"x":-0}')).not.toBe(digest('{"x":0}'));
    // Invalid UTF-8: both would decode to U+FFFD.
    const bad1 = Buffer.concat([Buffer.from('{"s":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    const bad2 = Buffer.concat([Buffer.from('{"s":"'), Buffer.from([0xfe]), Buffer.from('"}')]);
    expect(digest(bad1)).not.toBe(digest(bad2));
    // A byte-order mark is not insignificant whitespace.
    expect(digest('\ufeff{"a":1}')).not.toBe(digest('{"a":1}'));
  });

  it('still canonicalises safe large and small numbers', () => {
    expect(digest('{"n":9007199254740991}')).toBe(digest('{"n":9007199254740991.0}'));
    expect(digest('{"n":0.5}')).toBe(digest('{"n":5e-1}'));
    expect(digest('{"n":1e21}')).toBe(digest('{"n":1000000000000000000000}'));
  });

  it('digests a body without a Content-Type by its bytes under the empty media type (a known answer)', () => {
    const envelope = `{"body":{"media":"","sha256":"${sha256('{"a":1}')}"},"kind":"http","method":"POST","path":"/refunds","query":"","tool":"billing","v":2}`;
    expect(digest('{"a":1}', { contentType: undefined })).toBe(sha256(envelope));
  });

  it('counts only application/json and application/*+json as JSON media types', () => {
    for (const contentType of ['application/octet-stream', 'text/vnd.x+json', 'text/json']) {
      expect(digest('{"a": 1}', { contentType })).not.toBe(digest('{"a":1}', { contentType }));
    }
    expect(digest('{"a": 1}', { contentType: ' application/json ; charset=utf-8' })).toBe(digest('{"a":1}'));
  });

  it('refuses JSON nested deeper than the limit with JsonTooDeepError instead of digesting it', () => {
    expect(() => digest('['.repeat(65) + ']'.repeat(65))).toThrow(JsonTooDeepError);
    expect(() => digest('['.repeat(64) + ']'.repeat(64))).not.toThrow();
  });

  it('checks the whole of every number literal, fraction, exponent sign and first digit included', () => {
    // Each whole literal is not one double as written, while its pieces (1 | 00000000000000001, 0 | 65494…,
    // 1 | 400, 9 | 007199254740993) each are.
    expect(digest('{"x":1.00000000000000001}')).not.toBe(digest('{"x":1}'));
    expect(digest('{"x":0.65494756771917064}')).not.toBe(digest('{"x":0.6549475677191706}'));
    expect(digest('{"x":1e+400}')).not.toBe(digest('{"x":2e+400}'));
    expect(digest('{"x":9007199254740993}')).not.toBe(digest('{"x":9007199254740992}'));
  });

  it('canonicalises zero written with a fraction or exponent, and a number written with an exponent', () => {
    expect(digest('{"n":0.0}')).toBe(digest('{"n":0}'));
    expect(digest('{"n":0e5}')).toBe(digest('{"n":0}'));
    expect(digest('{"n":5e-2}')).toBe(digest('{"n":0.05}'));
  });

  it('skips string contents (escaped quotes included) when checking number literals', () => {
    const long = '12345678901234567891'; // not one double, but inside a string it is text
    expect(digest(`{"s":"${long}","n":1}`)).toBe(digest(`{"n":1, "s":"${long}"}`));
    expect(digest(`{"s":"a\\"${long}"}`)).toBe(digest(` {"s" : "a\\"${long}"} `));
    expect(digest(`{"a":[1,"${long}"]}`)).toBe(digest(`{"a":[1, "${long}"]}`));
  });

  describe('MCP tools/call', () => {
    const mcp = (message: unknown, over: Partial<ActionFacts> = {}): string =>
      digest(JSON.stringify(message), { tool: 'crm', path: '/', mcpTool: 'refund_order', ...over });
    const call = (id: unknown, args: unknown, meta?: unknown) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'refund_order', arguments: args, ...(meta !== undefined ? { _meta: meta } : {}) },
    });

    it('is SHA-256 over the canonical MCP envelope (a known answer computed here)', () => {
      const envelope =
        '{"arguments":{"amount":5},"kind":"mcp","mcp_method":"tools/call","mcp_tool":"refund_order","method":"POST","path":"/","query":"","tool":"crm","v":2}';
      expect(mcp(call(1, { amount: 5 }), { method: 'post' })).toBe(sha256(envelope));
    });

    it('digests a message that is not a JSON object by its bytes (a known answer), so two such messages differ', () => {
      const envelope = `{"kind":"mcp","mcp_method":"tools/call","method":"POST","path":"/","query":"","raw_sha256":"${sha256('null')}","tool":"crm","v":2}`;
      expect(digest('null', { tool: 'crm', path: '/', mcpTool: 'refund_order' })).toBe(sha256(envelope));
      const dup = (n: number) => `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"refund_order","arguments":{"a":1,"a":${n}}}}`;
      expect(digest(dup(2), { tool: 'crm', mcpTool: 'refund_order' })).not.toBe(digest(dup(3), { tool: 'crm', mcpTool: 'refund_order' }));
    });

    it('ignores the JSON-RPC id and _meta, and argument key order', () => {
      const d = mcp(call(1, { order: 'A-1', amount: 5 }));
      expect(mcp(call('req-77', { amount: 5, order: 'A-1' }, { progressToken: 'p' }))).toBe(d);
    });

    it('changes with the arguments, the MCP tool name and the gateway tool', () => {
      const d = mcp(call(1, { order: 'A-1', amount: 5 }));
      expect(mcp(call(1, { order: 'A-1', amount: 6 }))).not.toBe(d);
      expect(mcp(call(1, { order: 'A-1', amount: 5 }), { mcpTool: 'refund_all' })).not.toBe(d);
      expect(mcp(call(1, { order: 'A-1', amount: 5 }), { tool: 'crm2' })).not.toBe(d);
    });

    it('changes with the path and query the message was posted to, and the JSON-RPC method (SPEC §9.1)', () => {
      const d = mcp(call(1, { order: 'A-1', amount: 5 }));
      expect(mcp(call(1, { order: 'A-1', amount: 5 }), { path: '/tenant-b' })).not.toBe(d);
      expect(mcp(call(1, { order: 'A-1', amount: 5 }), { query: '?x=1' })).not.toBe(d);
      const read = (id: unknown, uri: string, meta?: unknown) => ({ jsonrpc: '2.0', id, method: 'resources/read', params: { uri, ...(meta ? { _meta: meta } : {}) } });
      const r = digest(JSON.stringify(read(1, 'crm://c/1')), { tool: 'crm', path: '/', mcpMethod: 'resources/read' });
      expect(digest(JSON.stringify(read('b', 'crm://c/1', { progressToken: 1 })), { tool: 'crm', path: '/', mcpMethod: 'resources/read' })).toBe(r);
      expect(digest(JSON.stringify(read(1, 'crm://c/2')), { tool: 'crm', path: '/', mcpMethod: 'resources/read' })).not.toBe(r);
      expect(digest(JSON.stringify(read(1, 'crm://c/1')), { tool: 'crm', path: '/', mcpMethod: 'resources/subscribe' })).not.toBe(r);
    });

    it('falls back to the whole message (id included) when the message has duplicate names', () => {
      const text = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"refund_order","arguments":{"a":1,"a":2}}}';
      const same = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"refund_order","arguments":{"a":2}}}';
      expect(digest(text, { tool: 'crm', mcpTool: 'refund_order' })).not.toBe(digest(same, { tool: 'crm', mcpTool: 'refund_order' }));
    });
  });
});
