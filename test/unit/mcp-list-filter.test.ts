// SPEC §11: list results are filtered to what the session may use (list-filter.ts), whatever the id.
import { describe, expect, it } from 'vitest';
import { filterListAnswer, LIST_KINDS, sseListFilter } from '../../src/mcp/list-filter.js';

const TOOLS = LIST_KINDS['tools/list']!;
const filterToolsList = (body: Buffer, type: string | undefined, _id: unknown, keep: (n: string) => boolean) => filterListAnswer(body, type, TOOLS, keep);

const keep = (name: string): boolean => name.startsWith('search_') || name === 'get_customer';
const tools = [{ name: 'search_orders', description: 'x' }, { name: 'delete_all' }, { name: 'get_customer' }, { description: 'nameless' }];
const listResponse = (id: number | string) => ({ jsonrpc: '2.0', id, result: { tools, nextCursor: 'c2' } });
const names = (message: any): string[] => message.result.tools.map((t: { name: string }) => t.name);

describe('filterListAnswer', () => {
  it('keeps only the allowed tools of a JSON tools/list response, and the rest of the result', () => {
    const out = filterToolsList(Buffer.from(JSON.stringify(listResponse(7))), 'application/json; charset=utf-8', 7, keep);
    const message = JSON.parse(out!.toString('utf8'));
    expect(names(message)).toEqual(['search_orders', 'get_customer']);
    expect(message).toMatchObject({ jsonrpc: '2.0', id: 7, result: { nextCursor: 'c2' } });
    expect(message.result.tools[0]).toEqual({ name: 'search_orders', description: 'x' });
  });

  it('leaves a JSON-RPC error response unchanged', () => {
    const error = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 7, error: { code: -32601, message: 'nope' } }));
    expect(filterToolsList(error, 'application/json', 7, keep)).toBe(error);
  });

  it.each([8, '7', null, undefined])('filters a list response whatever its id (%s)', (id) => {
    const out = filterToolsList(Buffer.from(JSON.stringify(listResponse(id as never))), 'application/json', 7, keep);
    expect(names(JSON.parse(out!.toString('utf8')))).toEqual(['search_orders', 'get_customer']);
  });

  it('passes an empty body (202 to a notification) and filters resources by uri and prompts by name', () => {
    const empty = Buffer.alloc(0);
    expect(filterToolsList(empty, undefined, 1, keep)).toBe(empty);
    const resources = { jsonrpc: '2.0', id: 1, result: { resources: [{ uri: 'crm://customers/1', name: 'a' }, { uri: 'crm://internal/x', name: 'b' }] } };
    const out = filterListAnswer(Buffer.from(JSON.stringify(resources)), 'application/json', LIST_KINDS['resources/list']!, (uri) => uri.startsWith('crm://customers/'));
    expect(JSON.parse(out!.toString()).result.resources).toEqual([{ uri: 'crm://customers/1', name: 'a' }]);
    const prompts = { jsonrpc: '2.0', id: 1, result: { prompts: [{ name: 'summarise' }, { name: 'export' }] } };
    const out2 = filterListAnswer(Buffer.from(JSON.stringify(prompts)), 'application/json', LIST_KINDS['prompts/list']!, (n) => n === 'summarise');
    expect(JSON.parse(out2!.toString()).result.prompts).toEqual([{ name: 'summarise' }]);
  });

  it('filters the response event of an SSE stream and passes other events through', () => {
    const stream =
      'event: message\nid: e1\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}\n\n' +
      `event: message\nid: e2\ndata: ${JSON.stringify(listResponse(3))}\n\n`;
    const out = filterToolsList(Buffer.from(stream), 'text/event-stream', 3, keep)!.toString('utf8');
    const events = out.split('\n\n');
    expect(events[0]).toBe('event: message\nid: e1\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}');
    expect(events[1]!.startsWith('event: message\nid: e2\ndata: ')).toBe(true);
    expect(names(JSON.parse(events[1]!.split('data: ')[1]!))).toEqual(['search_orders', 'get_customer']);
    expect(out.endsWith('\n\n')).toBe(true);
  });

  it('reads a response split over several data lines with CRLF line ends', () => {
    const json = JSON.stringify(listResponse(4), null, 1).split('\n');
    const stream = json.map((line) => `data:${line}`).join('\r\n') + '\r\n\r\n';
    const out = filterToolsList(Buffer.from(stream), 'text/event-stream', 4, keep)!.toString('utf8');
    const data = out.split('\r\n').filter((l: string) => l.startsWith('data:'));
    expect(data).toHaveLength(1);
    expect(names(JSON.parse(data[0]!.slice(5)))).toEqual(['search_orders', 'get_customer']);
    expect(out).not.toContain('delete_all');
  });

  it('fails closed on a body it cannot read: not JSON, or another content type', () => {
    expect(filterToolsList(Buffer.from('{"jsonrpc":'), 'application/json', 1, keep)).toBeUndefined();
    expect(filterToolsList(Buffer.from(JSON.stringify(listResponse(1))), 'text/plain', 1, keep)).toBeUndefined();
    expect(filterToolsList(Buffer.from(JSON.stringify(listResponse(1))), undefined, 1, keep)).toBeUndefined();
  });
});

describe('sseListFilter (unbuffered SSE streams)', () => {
  const keepFor = (kind: { member: string }) => (kind.member === 'tools' ? keep : kind.member === 'prompts' ? (n: string) => n === 'ok' : undefined);
  const run = (chunks: (string | Buffer)[]) => {
    const filter = sseListFilter(keepFor);
    const out = chunks.map((c) => filter.push(typeof c === 'string' ? Buffer.from(c) : c));
    out.push(filter.end());
    return Buffer.concat(out).toString('utf8');
  };
  const list = `event: message\r\nid: 9\r\ndata: ${JSON.stringify(listResponse(5))}\r\n\r\n`;
  const note = 'data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"p":"é"}}\n\n';

  it('filters a list event however the stream is cut into chunks, CRLF and multi-byte characters included', () => {
    const whole = run([note + list]);
    expect(whole).not.toContain('delete_all');
    expect(whole.startsWith(note)).toBe(true);
    const bytes = Buffer.from(note + list);
    for (const cut of [1, 40, bytes.indexOf(0xc3) + 1, bytes.length - 3, bytes.length - 1]) {
      expect(run([bytes.subarray(0, cut), bytes.subarray(cut)])).toBe(whole);
    }
    const byByte = run([...bytes].map((b) => Buffer.from([b])));
    expect(byByte).toBe(whole);
  });

  it('passes events without a list byte for byte, filters prompts where asked, and leaves resources alone where not', () => {
    expect(run([note])).toBe(note);
    const prompts = `data: ${JSON.stringify({ jsonrpc: '2.0', id: 1, result: { prompts: [{ name: 'ok' }, { name: 'no' }] } })}\n\n`;
    expect(run([prompts])).toContain('"prompts":[{"name":"ok"}]');
    const resources = `data: ${JSON.stringify({ jsonrpc: '2.0', id: 1, result: { resources: [{ uri: 'x://1' }] } })}\n\n`;
    expect(run([resources])).toBe(resources);
  });

  it('refuses to hold back an event larger than its bound (the stream is then cut)', () => {
    const filter = sseListFilter(keepFor, 100);
    expect(filter.push(Buffer.from('data: 1\n\n')).toString()).toBe('data: 1\n\n');
    expect(() => filter.push(Buffer.from(`data: ${'x'.repeat(200)}`))).toThrow(/exceeds 100/);
  });

  it('vets an unterminated last event at the end of the stream', () => {
    expect(run([`data: ${JSON.stringify(listResponse(1))}`])).not.toContain('delete_all');
  });
});
