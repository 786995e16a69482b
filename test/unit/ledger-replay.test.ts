// writeReplay answers a call from the ledger without calling the tool: the recorded status, headers and body
// byte for byte, `Idempotent-Replayed: true`, and this request's own X-Request-Id; an admin's `done` answers
// 200 with a small JSON body (in MCP form under the new JSON-RPC id); an MCP answer is re-addressed to the
// new id and never carries the recorded MCP session or cookies. The audit hook runs before the end.
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { writeReplay, type ReplayOptions } from '../../src/ledger/replay.js';
import type { LedgerEntry, RecordedResponse } from '../../src/store/ledger-types.js';

const entry = (over: Partial<LedgerEntry> = {}): LedgerEntry =>
  ({ entryId: 'led_1', state: 'completed', response: recorded({ 'content-type': 'text/plain' }, 'paid'), ...over }) as LedgerEntry;

function recorded(headers: RecordedResponse['headers'], body: string | null, status = 201): RecordedResponse {
  return { status, headers, body: body === null ? null : Buffer.from(body) };
}

/** The part of a ServerResponse a replay writes to, with the order of what happened. */
function response(preset: Record<string, string> = { 'x-request-id': 'req_new' }) {
  const headers = new Map<string, string | string[]>(Object.entries(preset));
  const steps: string[] = [];
  const res = {
    statusCode: 0,
    body: undefined as string | undefined,
    hasHeader: (name: string) => headers.has(name),
    setHeader: (name: string, value: string | string[]) => void headers.set(name, value),
    end(body: Buffer) {
      steps.push('end');
      res.body = body.toString('utf8');
    },
  };
  const options = { beforeEnd: () => void steps.push(`beforeEnd:${res.body === undefined ? 'open' : 'ended'}`) };
  const written = () => ({ status: res.statusCode, headers: Object.fromEntries(headers), body: res.body, steps });
  return { res: res as unknown as ServerResponse, options, written };
}

function replayed(e: LedgerEntry, mcp?: ReplayOptions['mcp']) {
  const { res, options, written } = response();
  writeReplay(res, e, { ...options, ...(mcp && { mcp }) });
  return written();
}

describe('writeReplay: a recorded answer', () => {
  it('is the recorded status, headers and body, marked replayed, under this request id, audited before the end', () => {
    const headers = { 'content-type': 'text/plain', 'content-length': '4', 'x-request-id': 'req_old', 'x-tool': ['a', 'b'] };
    expect(replayed(entry({ response: recorded(headers, 'paid') }))).toStrictEqual({
      status: 201,
      headers: { 'x-request-id': 'req_new', 'content-type': 'text/plain', 'content-length': '4', 'x-tool': ['a', 'b'], 'idempotent-replayed': 'true' },
      body: 'paid',
      steps: ['beforeEnd:open', 'end'],
    });
  });

  it.each([
    ['no recorded response', entry({ response: undefined })],
    ['a recorded response without its body', entry({ response: recorded({}, null) })],
  ])('with %s is refused as outcome_unknown, nothing written', (_name, e) => {
    const { res, options, written } = response();
    let thrown: unknown;
    try {
      writeReplay(res, e, options);
    } catch (err) {
      thrown = err;
    }
    if (!(thrown instanceof GatewayError)) throw new Error('not refused');
    expect([thrown.code, thrown.message, thrown.fields]).toStrictEqual(['outcome_unknown', 'The recorded outcome has no replayable body', { entry_id: 'led_1' }]);
    expect(written()).toStrictEqual({ status: 0, headers: { 'x-request-id': 'req_new' }, body: undefined, steps: [] });
  });
});

describe('writeReplay: an MCP answer', () => {
  const json = '{"jsonrpc":"2.0","id":3,"result":{"ok":true}}';
  const mcpHeaders = { 'content-type': 'application/json', 'content-length': String(json.length), 'mcp-session-id': 'old', 'set-cookie': 'a=b', 'x-tool': 't' };

  it('is re-addressed to the new id, without the recorded session, cookies or length', () => {
    expect(replayed(entry({ response: recorded(mcpHeaders, json, 200) }), { id: 'n-9', method: 'tools/call' })).toStrictEqual({
      status: 200,
      headers: { 'x-request-id': 'req_new', 'content-type': 'application/json', 'x-tool': 't', 'idempotent-replayed': 'true' },
      body: '{"jsonrpc":"2.0","id":"n-9","result":{"ok":true}}',
      steps: ['beforeEnd:open', 'end'],
    });
  });

  it('keeps the body and its length for a notification (no id), still without the session', () => {
    expect(replayed(entry({ response: recorded(mcpHeaders, json, 200) }), { id: undefined, method: 'tools/call' })).toStrictEqual({
      status: 200,
      headers: { 'x-request-id': 'req_new', 'content-type': 'application/json', 'content-length': String(json.length), 'x-tool': 't', 'idempotent-replayed': 'true' },
      body: json,
      steps: ['beforeEnd:open', 'end'],
    });
  });

  it('keeps the length of a body that is not a JSON-RPC answer (left as recorded)', () => {
    const headers = { 'content-type': 'text/plain', 'content-length': '4' };
    expect(replayed(entry({ response: recorded(headers, 'paid') }), { id: 5, method: 'tools/call' }).headers).toStrictEqual({
      'x-request-id': 'req_new',
      'content-type': 'text/plain',
      'content-length': '4',
      'idempotent-replayed': 'true',
    });
  });
});

describe('writeReplay: an entry an admin resolved as done', () => {
  const done = entry({ state: 'done', response: undefined });

  it('answers 200 with the JSON resolution', () => {
    const body = '{"replayed":true,"resolution":"done","entry_id":"led_1"}';
    expect(replayed(done)).toStrictEqual({
      status: 200,
      headers: { 'x-request-id': 'req_new', 'content-type': 'application/json', 'content-length': String(body.length), 'idempotent-replayed': 'true' },
      body,
      steps: ['beforeEnd:open', 'end'],
    });
    expect(replayed(done, { id: undefined, method: 'tools/call' }).body).toBe(body);
  });

  it('answers an MCP tools/call with a tool result under the new id', () => {
    const text = 'This call already happened: an administrator recorded its earlier attempt as done (ledger entry led_1). It was not run again.';
    const replay = { replayed: true, resolution: 'done', entry_id: 'led_1' };
    const written = replayed(done, { id: 0, method: 'tools/call' });
    expect(JSON.parse(written.body!)).toStrictEqual({ jsonrpc: '2.0', id: 0, result: { content: [{ type: 'text', text }], _meta: { 'io.epochgate/replay': replay } } });
    expect(written.headers['content-length']).toBe(String(Buffer.byteLength(written.body!)));
    expect(JSON.parse(replayed(done, { id: 'x', method: 'ping' }).body!)).toStrictEqual({ jsonrpc: '2.0', id: 'x', result: { _meta: { 'io.epochgate/replay': replay } } });
  });
});
