// SPEC §11: per-message outcomes in MCP form (mcp-reply.ts); transport failures stay HTTP problems.
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/catalogue.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { MCP_ERROR_CODES, mcpErrorReply } from '../../src/mcp/mcp-reply.js';

describe('mcpErrorReply', () => {
  it('answers policy_denied as HTTP 200 with a JSON-RPC error that has the same id and the problem in data', () => {
    const reply = mcpErrorReply(new GatewayError('policy_denied', { detail: 'Denied by rule r1', fields: { rule_id: 'r1' } }), 'req_1', 'abc')!;
    expect(reply.status).toBe(200);
    expect(reply.code).toBe('policy_denied');
    expect(reply.headers['content-type']).toBe('application/json');
    expect(JSON.parse(reply.body)).toEqual({
      jsonrpc: '2.0',
      id: 'abc',
      error: {
        code: -32001,
        message: 'Policy denies this call',
        data: {
          type: 'urn:epochgate:error:policy_denied',
          title: 'Policy denies this call',
          status: 403,
          code: 'policy_denied',
          detail: 'Denied by rule r1',
          request_id: 'req_1',
          rule_id: 'r1',
        },
      },
    });
  });

  it('keeps Retry-After and the approval id of approval_required', () => {
    const reply = mcpErrorReply(new GatewayError('approval_required', { fields: { approval_id: 'apr_1' } }), 'req_2', 9)!;
    expect(reply.headers['retry-after']).toBe('5');
    const body = JSON.parse(reply.body);
    expect(body.id).toBe(9);
    expect(body.error.code).toBe(-32002);
    expect(body.error.data).toMatchObject({ code: 'approval_required', approval_id: 'apr_1' });
  });

  it.each(['token_expired', 'session_stale_epoch', 'scope_exceeded', 'bad_request', 'payload_too_large', 'route_not_found', 'store_unavailable', 'upstream_timeout', 'internal_error'] as const)(
    'leaves %s to the HTTP problem reply',
    (code) => {
      expect(mcpErrorReply(new GatewayError(code, { bearer: true }), 'req_3', 1)).toBeUndefined();
    },
  );

  it('uses distinct codes in the implementation-defined server range, each for a catalogue code', () => {
    const codes = Object.values(MCP_ERROR_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code >= -32099 && code <= -32000).toBe(true);
    for (const name of Object.keys(MCP_ERROR_CODES)) expect(ERROR_CODES).toContain(name);
  });
});
