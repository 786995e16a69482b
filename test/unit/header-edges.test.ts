// Header hygiene at its edges (src/upstream/headers.ts), written for the survivors of a mutation run
// (docs/testing.md): empty context values, several Connection or tracestate fields, the Connection cache,
// response header maps as Node gives them, HTTP2-Settings and raw lists of odd length, and a fresh traceparent
// when the random bytes are all zero.
import { describe, expect, it, vi } from 'vitest';
import type { ToolConfig } from '../../src/config/types.js';
import {
  buildUpstreamHeaders,
  isEventStream,
  newTraceparent,
  parseTraceparent,
  stripResponseHeaders,
  type UpstreamHeaderContext,
} from '../../src/upstream/headers.js';

/** Hex strings handed out by randomHexPooled before it falls back to the real pool. */
const queued = vi.hoisted(() => [] as string[]);
vi.mock('../../src/util/random-pool.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/util/random-pool.js')>();
  return { ...real, randomHexPooled: (size: number) => queued.shift() ?? real.randomHexPooled(size) };
});

const TOOL: ToolConfig = {
  name: 'billing',
  upstream: new URL('http://127.0.0.1:9001/api'),
  protocol: 'http',
  headers: {},
  timeoutMs: 1000,
  maxBodyBytes: 1024,
  forwardCookies: false,
  maxConnections: 16,
  streamIdleTimeoutMs: 300_000,
};
const VALID_TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

const build = (raw: string[], over: Partial<UpstreamHeaderContext> = {}) =>
  buildUpstreamHeaders(raw, {
    tool: TOOL, requestId: 'req-1', clientIp: '10.0.0.7', proto: 'https', host: 'gw.example', sessionId: 'ses_1', epoch: 3, agentId: 'a', ...over,
  });

describe('buildUpstreamHeaders: empty context values', () => {
  it('sets no X-Forwarded-For when the client address is unknown (empty)', () => {
    const out = build([], { clientIp: '' });
    expect(Object.keys(out).filter((name) => name.startsWith('x-forwarded-'))).toEqual(['x-forwarded-proto', 'x-forwarded-host']);
  });

  it('sets no X-Forwarded-Host for an empty Host', () => {
    const out = build([], { host: '' });
    expect(Object.keys(out).filter((name) => name.startsWith('x-forwarded-'))).toEqual(['x-forwarded-for', 'x-forwarded-proto']);
    expect(out['x-forwarded-proto']).toBe('https');
  });
});

describe('buildUpstreamHeaders: trace context', () => {
  it('starts a new trace when the raw headers repeat traceparent, even if the context carries a valid one', () => {
    const out = build(['traceparent', VALID_TP, 'traceparent', VALID_TP, 'tracestate', 'a=1'], { traceparent: VALID_TP });
    expect(out.traceparent).not.toBe(VALID_TP);
    expect(out.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(out.tracestate).toBeUndefined();
  });

  it('passes a valid traceparent on without surrounding whitespace', () => {
    expect(build(['traceparent', ` ${VALID_TP}\t`]).traceparent).toBe(VALID_TP);
  });

  it('passes a future-version traceparent on lower-cased (its extra fields included)', () => {
    const future = `01-${TRACE}-${PARENT}-01-ExTra`;
    expect(build(['traceparent', future]).traceparent).toBe(`01-${TRACE}-${PARENT}-01-extra`);
  });

  it('joins several tracestate fields with "," in their order (W3C Trace Context §3.3.1)', () => {
    const out = build(['traceparent', VALID_TP, 'tracestate', 'a=1', 'Accept', '*/*', 'TraceState', 'b=2']);
    expect(out.tracestate).toBe('a=1,b=2');
  });

  it('sends no tracestate with a valid traceparent that came alone', () => {
    expect(Object.keys(build(['traceparent', VALID_TP]))).not.toContain('tracestate');
  });
});

describe('buildUpstreamHeaders: the Connection cache', () => {
  it('does not reuse the names of a message with two Connection fields for a later one with only the first', () => {
    const first = build(['Connection', 'x-a', 'Connection', 'x-b', 'X-A', '1', 'X-B', '2', 'X-C', '3']);
    expect(first['x-c']).toBe('3');
    expect(Object.keys(first)).not.toContain('x-b');
    const later = build(['Connection', 'x-a', 'X-A', '1', 'X-B', '2']);
    expect(later['x-b']).toBe('2');
    expect(Object.keys(later)).not.toContain('x-a');
  });

  it('does not answer a message with two Connection fields from the cached names of its first field alone', () => {
    build(['Connection', 'x-a']);
    const out = build(['Connection', 'x-a', 'Connection', 'x-b', 'X-A', '1', 'X-B', '2', 'X-C', '3']);
    expect({ 'x-a': out['x-a'], 'x-b': out['x-b'], 'x-c': out['x-c'] }).toEqual({ 'x-a': undefined, 'x-b': undefined, 'x-c': '3' });
  });
});

describe('buildUpstreamHeaders: raw header lists', () => {
  it('drops HTTP2-Settings, which is connection-specific (RFC 9113 §3.2.1), in both directions', () => {
    expect(Object.keys(build(['HTTP2-Settings', 'AAMAAABkAAQAoAAAAAIAAAAA', 'X-Kept', '1']))).not.toContain('http2-settings');
    expect({ ...stripResponseHeaders({ 'http2-settings': 'AAMA', 'x-kept': '1' }) }).toEqual({ 'x-kept': '1' });
  });

  it('ignores a trailing name without a value (a list of odd length) in every pass', () => {
    const out = build(['traceparent', VALID_TP, 'tracestate', 'a=1', 'X-Kept', '1', 'traceparent']);
    expect(out.traceparent).toBe(VALID_TP);
    expect(out.tracestate).toBe('a=1');
    expect(build(['tracestate', 'b=2', 'traceparent', VALID_TP, 'tracestate']).tracestate).toBe('b=2');
    expect(Object.keys(build(['X-Kept', '1', 'X-Dangling']))).not.toContain('x-dangling');
  });
});

describe('stripResponseHeaders: header maps as Node gives them', () => {
  it('honours a capitalised Connection key and a Connection given as an array', () => {
    expect({ ...stripResponseHeaders({ Connection: 'x-hop', 'x-hop': '1', 'x-kept': '2' }) }).toEqual({ 'x-kept': '2' });
    expect({ ...stripResponseHeaders({ connection: ['x-a', 'x-b'], 'x-a': '1', 'x-b': '2', 'x-c': '3' }) }).toEqual({ 'x-c': '3' });
  });

  it('leaves out headers whose value is undefined', () => {
    expect(Object.keys(stripResponseHeaders({ 'x-none': undefined, 'x-kept': '1' }))).toEqual(['x-kept']);
  });
});

describe('isEventStream', () => {
  it.each([
    ['text/event-stream', true],
    ['  Text/Event-Stream; charset=utf-8', true],
    [['text/event-stream', 'text/plain'], true],
    [['text/plain', 'text/event-stream'], false],
    ['application/json', false],
    ['application/text/event-stream', false],
  ] as const)('classifies Content-Type %j as an event stream: %s', (type, expected) => {
    expect(isEventStream({ 'content-type': type as string | string[] })).toBe(expected);
  });

  it('is false without a Content-Type', () => {
    expect(isEventStream({})).toBe(false);
  });
});

describe('newTraceparent', () => {
  it('draws again while the trace id or the parent id would be all zeros', () => {
    queued.push('0'.repeat(32) + PARENT, TRACE + '0'.repeat(16), TRACE + PARENT, 'f'.repeat(48));
    expect(newTraceparent()).toBe(`00-${TRACE}-${PARENT}-01`);
    expect(queued).toEqual(['f'.repeat(48)]);
    queued.length = 0;
  });

  it('parses back to its own ids', () => {
    queued.push(TRACE + PARENT);
    expect(parseTraceparent(newTraceparent())).toEqual({ traceId: TRACE, parentId: PARENT, flags: '01' });
  });
});

describe('parseTraceparent: edges', () => {
  it('accepts surrounding whitespace and rejects an all-zero trace id', () => {
    expect(parseTraceparent(`  ${VALID_TP} `)).toEqual({ traceId: '0af7651916cd43dd8448eb211c80319c', parentId: 'b7ad6b7169203331', flags: '01' });
    expect(parseTraceparent(`00-${'0'.repeat(32)}-${PARENT}-01`)).toBeUndefined();
  });

  it('rejects a value with characters before or after the fields (version 00)', () => {
    expect(parseTraceparent(`x${VALID_TP}`)).toBeUndefined();
    expect(parseTraceparent(`${VALID_TP}x`)).toBeUndefined();
  });
});
