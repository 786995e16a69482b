import { describe, expect, it } from 'vitest';
import type { ToolConfig } from '../../src/config/types.js';
import {
  buildUpstreamHeaders,
  duplicateSecurityHeader,
  newTraceparent,
  parseTraceparent,
  stripResponseHeaders,
  type UpstreamHeaderContext,
} from '../../src/upstream/headers.js';

const TOOL: ToolConfig = {
  name: 'billing',
  upstream: new URL('http://127.0.0.1:9001/api'),
  protocol: 'http',
  headers: { authorization: 'Bearer tool-api-key', 'x-api-version': '2' },
  timeoutMs: 1000,
  maxBodyBytes: 1024,
  forwardCookies: false,
  maxConnections: 16,
  streamIdleTimeoutMs: 300_000,
};

const VALID_TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function ctx(over: Partial<UpstreamHeaderContext> = {}): UpstreamHeaderContext {
  return {
    tool: TOOL,
    requestId: 'req-1',
    clientIp: '10.0.0.7',
    proto: 'http',
    host: 'gw.example:8080',
    sessionId: 'ses_1',
    epoch: 3,
    agentId: 'agent-a',
    ...over,
  };
}

function build(raw: string[], over: Partial<UpstreamHeaderContext> = {}) {
  return buildUpstreamHeaders(raw, ctx(over));
}

describe('buildUpstreamHeaders: dropped incoming headers', () => {
  it.each([
    'Authorization',
    'Proxy-Authorization',
    'Cookie',
    'DPoP',
    'Connection',
    'Keep-Alive',
    'Proxy-Connection',
    'TE',
    'Trailer',
    'Transfer-Encoding',
    'Upgrade',
    'Host',
    'Content-Length',
    'Expect',
    'Forwarded',
    'X-Forwarded-For',
    'X-Forwarded-Proto',
    'X-Forwarded-Host',
    'X-Forwarded-Port',
    'X-Epochgate-Session',
    'X-Epochgate-Epoch',
    'X-Epochgate-Anything',
    'X-Request-Id',
  ])('drops the agent %s header', (name) => {
    const out = build([name, 'agent-value', 'Accept', 'application/json'], { tool: { ...TOOL, headers: {} } });
    expect(Object.values(out).flat()).not.toContain('agent-value');
    expect(out.accept).toBe('application/json');
  });

  it('drops the agent Authorization even when the tool injects none', () => {
    const out = build(['Authorization', 'Bearer SESSION.TOKEN'], { tool: { ...TOOL, headers: {} } });
    expect(out.authorization).toBeUndefined();
    expect(JSON.stringify(out)).not.toContain('SESSION.TOKEN');
  });

  it('drops every header named in Connection (any case, several values)', () => {
    const out = build(['Connection', 'X-Secret, keep-alive', 'connection', 'x-other', 'X-SECRET', '1', 'X-Other', '2', 'X-Kept', '3']);
    expect(out['x-secret']).toBeUndefined();
    expect(out['x-other']).toBeUndefined();
    expect(out['x-kept']).toBe('3');
  });

  it('drops header names containing "_"', () => {
    const out = build(['X_Forwarded_User', 'admin', 'X-Api_Key', 'k', 'X-Fine', 'ok']);
    expect(out['x_forwarded_user']).toBeUndefined();
    expect(out['x-api_key']).toBeUndefined();
    expect(out['x-fine']).toBe('ok');
  });

  it('forwards Cookie only when the tool allows it', () => {
    expect(build(['Cookie', 'a=1'], { tool: { ...TOOL, forwardCookies: true } }).cookie).toBe('a=1');
    expect(build(['Cookie', 'a=1']).cookie).toBeUndefined();
  });

  it('keeps ordinary headers, lower-cased, repeated ones as arrays', () => {
    const out = build(['Accept', 'a', 'X-Multi', '1', 'x-multi', '2', 'Content-Type', 'application/json']);
    expect(out.accept).toBe('a');
    expect(out['x-multi']).toEqual(['1', '2']);
    expect(out['content-type']).toBe('application/json');
  });

  it('is not confused by header names that are Object.prototype members', () => {
    const out = build(['Constructor', 'x', 'toString', 'y']);
    expect(out.constructor).toBe('x');
    expect(out.tostring).toBe('y');
  });
});

describe('buildUpstreamHeaders: injected headers', () => {
  it('sets the tool headers, overriding an incoming header of the same name', () => {
    const out = build(['X-Api-Version', '1', 'x-api-version', '9']);
    expect(out['x-api-version']).toBe('2');
    expect(out.authorization).toBe('Bearer tool-api-key');
  });

  it('sets X-Forwarded-For to the client IP only, ignoring any incoming chain', () => {
    const out = build(['X-Forwarded-For', '1.2.3.4', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'evil']);
    expect(out['x-forwarded-for']).toBe('10.0.0.7');
    expect(out['x-forwarded-proto']).toBe('http');
    expect(out['x-forwarded-host']).toBe('gw.example:8080');
  });

  it('sets X-Request-Id and the X-Epochgate-* headers from gateway state, not the agent', () => {
    const out = build(['X-Request-Id', 'forged', 'X-Epochgate-Epoch', '99', 'X-Epochgate-Session', 'other']);
    expect(out['x-request-id']).toBe('req-1');
    expect(out['x-epochgate-session']).toBe('ses_1');
    expect(out['x-epochgate-epoch']).toBe('3');
    expect(out['x-epochgate-agent']).toBe('agent-a');
  });

  it('lets gateway headers win over a tool header of the same name', () => {
    const out = build([], { tool: { ...TOOL, headers: { 'x-request-id': 'tool', 'x-epochgate-epoch': '7' } } });
    expect(out['x-request-id']).toBe('req-1');
    expect(out['x-epochgate-epoch']).toBe('3');
  });

  it('passes a valid incoming traceparent (and its tracestate) through', () => {
    const out = build(['traceparent', VALID_TP, 'tracestate', 'a=1'], { traceparent: VALID_TP });
    expect(out.traceparent).toBe(VALID_TP);
    expect(out.tracestate).toBe('a=1');
  });

  it('uses the raw traceparent header when the context carries none', () => {
    expect(build(['Traceparent', VALID_TP]).traceparent).toBe(VALID_TP);
  });

  it.each([
    ['absent', []],
    ['malformed', ['traceparent', 'garbage']],
    ['all-zero trace id', ['traceparent', `00-${'0'.repeat(32)}-b7ad6b7169203331-01`]],
    ['duplicated', ['traceparent', VALID_TP, 'traceparent', VALID_TP]],
  ])('starts a new trace when the traceparent is %s, and drops tracestate', (_name, raw) => {
    const out = build([...raw, 'tracestate', 'a=1']);
    expect(out.traceparent).not.toBe(VALID_TP);
    const [, traceId, parentId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(out.traceparent as string) ?? [];
    expect(parseTraceparent(out.traceparent as string)).toEqual({ traceId, parentId, flags: '01' });
    expect(out.tracestate).toBeUndefined();
  });

  it('omits X-Forwarded-Host when the agent sent no Host', () => {
    expect(build([], { host: undefined })['x-forwarded-host']).toBeUndefined();
  });
});

describe('parseTraceparent', () => {
  it('returns the ids of a valid value', () => {
    expect(parseTraceparent(VALID_TP)).toEqual({ traceId: '0af7651916cd43dd8448eb211c80319c', parentId: 'b7ad6b7169203331', flags: '01' });
  });

  it.each([
    ['upper-case hex', VALID_TP.toUpperCase()],
    ['version ff', VALID_TP.replace(/^00/, 'ff')],
    ['version 00 with extra field', `${VALID_TP}-extra`],
    ['zero parent id', `00-0af7651916cd43dd8448eb211c80319c-${'0'.repeat(16)}-01`],
    ['short trace id', '00-0af76519-b7ad6b7169203331-01'],
    ['undefined', undefined],
  ])('rejects %s', (_name, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('accepts a future version with extra fields', () => {
    expect(parseTraceparent(`01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-xyz`)).toEqual({ traceId: '0af7651916cd43dd8448eb211c80319c', parentId: 'b7ad6b7169203331', flags: '01' });
  });

  it('newTraceparent produces distinct valid values', () => {
    const a = newTraceparent();
    expect(parseTraceparent(a)).toEqual({ traceId: a.slice(3, 35), parentId: a.slice(36, 52), flags: '01' });
    expect(newTraceparent()).not.toBe(a);
  });
});

describe('duplicateSecurityHeader', () => {
  it.each(['Host', 'Authorization', 'Idempotency-Key', 'Content-Length', 'Mcp-Session-Id'])('finds a duplicated %s in any case', (name) => {
    expect(duplicateSecurityHeader([name, 'a', 'Accept', '*/*', name.toUpperCase(), 'b'])).toBe(name);
  });

  it('ignores single occurrences and duplicates of other headers', () => {
    expect(duplicateSecurityHeader(['Host', 'a', 'Authorization', 'x', 'Accept', '1', 'accept', '2'])).toBeUndefined();
  });
});

describe('stripResponseHeaders', () => {
  it('removes hop-by-hop headers and those named in Connection, keeps the rest', () => {
    const out = stripResponseHeaders({
      connection: 'keep-alive, x-hop',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      trailer: 'x-t',
      upgrade: 'h2c',
      'proxy-authenticate': 'Basic',
      'x-hop': '1',
      'content-type': 'text/plain',
      'content-length': '5',
      'set-cookie': ['a=1', 'b=2'],
    });
    expect(out).toEqual({ 'content-type': 'text/plain', 'content-length': '5', 'set-cookie': ['a=1', 'b=2'] });
  });

  it('drops what each message names in Connection, also when messages alternate between values', () => {
    const headers = (connection: string) => ({ connection, 'x-a': '1', 'x-b': '2', 'x-c': '3' });
    expect(stripResponseHeaders(headers('x-a'))).toEqual({ 'x-b': '2', 'x-c': '3' });
    expect(stripResponseHeaders(headers('x-a'))).toEqual({ 'x-b': '2', 'x-c': '3' });
    expect(stripResponseHeaders(headers('x-b, X-C'))).toEqual({ 'x-a': '1' });
    expect(stripResponseHeaders(headers('x-a'))).toEqual({ 'x-b': '2', 'x-c': '3' });
    expect(stripResponseHeaders({ 'x-a': '1' })).toEqual({ 'x-a': '1' });
  });
});
