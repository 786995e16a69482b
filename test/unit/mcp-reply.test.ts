// SPEC §11: per-message outcomes in MCP form (mcp-reply.ts); transport failures stay HTTP problems.
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/catalogue.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { MCP_ERROR_CODES, mcpErrorReply } from '../../src/mcp/mcp-reply.js';

describe('mcpErrorReply', () => {
  it('answers approval_required to a client that declared URL-mode elicitation with -32042 and one URL elicitation', () => {
    const error = new GatewayError('approval_required', { detail: 'd', fields: { approval_id: 'apr_1', approval_url: 'https://c.example/console/approvals/apr_1' } });
    const body = JSON.parse(mcpErrorReply(error, 'req_3', 7, 'tools/call', true)!.body);
    const message = 'This call needs a human approval: a person must approve this exact call at https://c.example/console/approvals/apr_1; retry it unchanged once approved.';
    expect(body.id).toBe(7);
    expect(body.error.code).toBe(-32042);
    expect(body.error.message).toBe(message);
    expect(body.error.data.elicitations).toEqual([{ mode: 'url', elicitationId: 'apr_1', url: 'https://c.example/console/approvals/apr_1', message }]);
    expect(body.error.data['io.epochgate/problem']).toMatchObject({ code: 'approval_required', approval_id: 'apr_1', request_id: 'req_3' });
    // Without a console URL there is nothing to point at: the ordinary tool result.
    const plain = JSON.parse(mcpErrorReply(new GatewayError('approval_required', { fields: { approval_id: 'apr_1' } }), 'req_4', 8, 'tools/call', true)!.body);
    expect(plain.result.isError).toBe(true);
    // Other codes never become -32042.
    expect(JSON.parse(mcpErrorReply(new GatewayError('approval_denied', { fields: { approval_id: 'apr_1' } }), 'req_5', 9, 'resources/read', true)!.body).error.code).toBe(-31003);
  });

  it('answers policy_denied of a non-tools/call method as HTTP 200 with a JSON-RPC error -31001, same id, problem in data', () => {
    const reply = mcpErrorReply(new GatewayError('policy_denied', { detail: 'Denied by rule r1', fields: { rule_id: 'r1' } }), 'req_1', 'abc', 'resources/read')!;
    expect(reply.status).toBe(200);
    expect(reply.code).toBe('policy_denied');
    expect(reply.headers['content-type']).toBe('application/json');
    expect(JSON.parse(reply.body)).toEqual({
      jsonrpc: '2.0',
      id: 'abc',
      error: {
        code: -31001,
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

  it('answers a refused tools/call as a tool result with isError, title + detail + next step, and the problem in _meta', () => {
    const reply = mcpErrorReply(new GatewayError('policy_denied', { detail: 'Denied by rule r1', fields: { rule_id: 'r1' } }), 'req_1', 4, 'tools/call')!;
    expect(reply.status).toBe(200);
    const body = JSON.parse(reply.body);
    expect(body.id).toBe(4);
    expect(body.error).toBeUndefined();
    expect(body.result.isError).toBe(true);
    expect(body.result.content).toHaveLength(1);
    expect(body.result.content[0].type).toBe('text');
    expect(body.result.content[0].text.split('\n')).toEqual(['Policy denies this call', 'Denied by rule r1', expect.stringMatching(/^Next: /)]);
    expect(body.result._meta['io.epochgate/problem']).toMatchObject({ code: 'policy_denied', rule_id: 'r1', status: 403 });
  });

  it('keeps Retry-After and names the approval id in the text of approval_required', () => {
    const reply = mcpErrorReply(new GatewayError('approval_required', { fields: { approval_id: 'apr_1', approval_url: 'http://c/approvals/apr_1' } }), 'req_2', 9, 'tools/call')!;
    expect(reply.headers['retry-after']).toBe('5');
    const body = JSON.parse(reply.body);
    expect(body.id).toBe(9);
    expect(body.result.content[0].text).toContain('apr_1');
    expect(body.result.content[0].text).toContain('http://c/approvals/apr_1');
    expect(body.result._meta['io.epochgate/problem']).toMatchObject({ code: 'approval_required', approval_id: 'apr_1' });
    const other = JSON.parse(mcpErrorReply(new GatewayError('approval_required', { fields: { approval_id: 'apr_1' } }), 'r', 1, 'prompts/get')!.body);
    expect(other.error.code).toBe(-31002);
  });

  it.each(['token_expired', 'session_stale_epoch', 'scope_exceeded', 'bad_request', 'payload_too_large', 'route_not_found', 'store_unavailable', 'upstream_timeout', 'internal_error'] as const)(
    'leaves %s to the HTTP problem reply',
    (code) => {
      expect(mcpErrorReply(new GatewayError(code, { bearer: true }), 'req_3', 1, 'tools/call')).toBeUndefined();
    },
  );

  it('uses the documented codes -31001…-31008, outside JSON-RPC\'s reserved range and the SDK\'s codes', () => {
    expect(MCP_ERROR_CODES).toEqual({
      policy_denied: -31001,
      approval_required: -31002,
      approval_denied: -31003,
      idempotency_in_progress: -31004,
      outcome_unknown: -31005,
      idempotency_key_reused: -31006,
      idempotency_key_missing: -31007,
      too_many_requests: -31008,
    });
    for (const name of Object.keys(MCP_ERROR_CODES)) expect(ERROR_CODES).toContain(name);
  });
});
