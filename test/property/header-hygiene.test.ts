// Property: whatever headers an agent sends, what the tool receives never carries the agent's credential
// (Authorization, Proxy-Authorization, DPoP, cookies unless allowed), hop-by-hop headers, headers named in
// Connection, names with "_", or an agent-supplied X-Forwarded-*/X-Epochgate-* value.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ToolConfig } from '../../src/config/types.js';
import { buildUpstreamHeaders } from '../../src/upstream/headers.js';

const TOOL: ToolConfig = {
  name: 'billing',
  upstream: new URL('http://127.0.0.1:9001/api'),
  protocol: 'http',
  headers: { 'x-api-key': 'tool-key' },
  timeoutMs: 1000,
  maxBodyBytes: 1024,
  forwardCookies: false,
  maxConnections: 16,
  streamIdleTimeoutMs: 300_000,
};

const NAMES = [
  'Authorization', 'authorization', 'AUTHORIZATION', 'Proxy-Authorization', 'DPoP', 'Cookie', 'Connection', 'Keep-Alive',
  'Proxy-Connection', 'TE', 'Trailer', 'Transfer-Encoding', 'Upgrade', 'X-Forwarded-For', 'x-forwarded-host', 'Forwarded',
  'X-Epochgate-Epoch', 'X-Request-Id', 'X_Api_Key', 'x-api_key', 'X-Custom', 'Accept', 'Content-Type', 'X-Api-Key',
];
const HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
const SET_BY_GATEWAY = new Set(['x-api-key', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'traceparent', 'x-epochgate-session', 'x-epochgate-epoch', 'x-epochgate-agent']);
const CREDENTIAL_NAMES = new Set(['authorization', 'proxy-authorization', 'dpop', 'cookie']);

const HEADER = fc.tuple(fc.constantFrom(...NAMES), fc.stringMatching(/^[A-Za-z0-9 ,._-]{0,20}$/));
const CONNECTION_LIST = fc.array(fc.constantFrom('x-custom', 'accept', 'x-api-key', 'close', 'keep-alive', 'X-Custom'), { maxLength: 3 });

describe('header hygiene (property)', () => {
  it('never forwards the agent credential, hop-by-hop or Connection-named headers, or spoofed gateway headers', () => {
    fc.assert(
      fc.property(fc.array(HEADER, { maxLength: 12 }), CONNECTION_LIST, fc.nat(), (headers, listed, n) => {
        // Every value is unique, so a value seen upstream can be traced back to the header it came from.
        const raw = headers.flatMap(([name, value], i) => [name, name.toLowerCase() === 'connection' ? listed.join(', ') : `v${n}-${i}-${value}`]);
        const out = buildUpstreamHeaders(raw, { tool: TOOL, requestId: 'req_1', clientIp: '10.0.0.1', proto: 'http', sessionId: 'ses_1', epoch: 2, agentId: 'a' });
        const sentConnection = headers.some(([name]) => name.toLowerCase() === 'connection');
        const named = new Set(sentConnection ? listed.map((name) => name.toLowerCase()) : []);
        for (const name of Object.keys(out)) {
          expect(CREDENTIAL_NAMES.has(name)).toBe(false);
          expect(HOP).not.toContain(name);
          expect(name.includes('_')).toBe(false);
          expect(name).toBe(name.toLowerCase());
          if (!SET_BY_GATEWAY.has(name)) expect(named.has(name)).toBe(false);
        }
        // Gateway-owned names carry the gateway's values, never the agent's.
        const agentValues = new Set(raw.filter((_, i) => i % 2 === 1));
        for (const name of SET_BY_GATEWAY) {
          const value = out[name];
          if (value !== undefined) expect(agentValues.has(String(value))).toBe(false);
        }
        // No value from a credential header travels on under another name.
        const credentialValues = headers.flatMap(([name], i) => (CREDENTIAL_NAMES.has(name.toLowerCase()) ? [raw[i * 2 + 1]!] : []));
        const forwardedValues = Object.values(out).flat().join('\n');
        for (const value of credentialValues) expect(forwardedValues).not.toContain(value);
        expect(out['x-api-key']).toBe('tool-key');
      }),
      { numRuns: 2000 },
    );
  });
});
