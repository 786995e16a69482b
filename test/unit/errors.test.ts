import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, ERROR_CODES } from '../../src/errors/catalogue.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { asGatewayError, problemReply } from '../../src/errors/problem.js';

describe('error catalogue', () => {
  it('renders RFC 9457 problem+json with type urn:epochgate:error:<code>', () => {
    const reply = problemReply(new GatewayError('policy_denied', { fields: { rule_id: 'never-admin' } }), 'req_1');
    expect(reply.status).toBe(403);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(reply.body)).toEqual({
      type: 'urn:epochgate:error:policy_denied',
      title: CATALOGUE.policy_denied.title,
      status: 403,
      code: 'policy_denied',
      detail: CATALOGUE.policy_denied.title,
      request_id: 'req_1',
      rule_id: 'never-admin',
    });
  });

  it('challenges token_missing without an error attribute (RFC 6750 §3.1)', () => {
    expect(problemReply(new GatewayError('token_missing'), 'r').headers['www-authenticate']).toBe('Bearer realm="epochgate"');
  });

  it('challenges a bearer 401 with error="invalid_token" and the code as description', () => {
    const reply = problemReply(new GatewayError('session_stale_epoch', { bearer: true }), 'r');
    expect(reply.headers['www-authenticate']).toBe('Bearer realm="epochgate", error="invalid_token", error_description="session_stale_epoch"');
  });

  it('challenges scope_exceeded with error="insufficient_scope"', () => {
    const reply = problemReply(new GatewayError('scope_exceeded', { bearer: true }), 'r');
    expect(reply.status).toBe(403);
    expect(reply.headers['www-authenticate']).toBe('Bearer realm="epochgate", error="insufficient_scope", error_description="scope_exceeded"');
  });

  it('gives no challenge to agent credentials sent in a JSON body', () => {
    expect(problemReply(new GatewayError('credential_invalid'), 'r').headers['www-authenticate']).toBeUndefined();
  });

  it('reports session state conflicts on the control plane as 409', () => {
    expect(new GatewayError('session_closed', { conflict: true }).status).toBe(409);
    expect(new GatewayError('session_closed').status).toBe(401);
    expect(new GatewayError('policy_denied', { conflict: true }).status).toBe(403);
  });

  it('sets Retry-After for store_unavailable and approval_required', () => {
    expect(problemReply(new GatewayError('store_unavailable'), 'r').headers['retry-after']).toBe('1');
    expect(problemReply(new GatewayError('approval_required'), 'r').headers['retry-after']).toBe('5');
  });

  it('turns an unexpected throw into internal_error without its message', () => {
    const reply = problemReply(asGatewayError(new Error('secret-bearing message')), 'r');
    expect(reply.status).toBe(500);
    expect(reply.body).not.toContain('secret-bearing');
  });

  it('keeps the error table of docs/errors.md equal to the catalogue', () => {
    const readme = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const rows = new Map<string, string>();
    for (const match of readme.matchAll(/^\| `([a-z_]+)` \| ([0-9 /a-z()]+?) \|/gm)) rows.set(match[1]!, match[2]!.trim());
    expect([...rows.keys()].sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const spec = CATALOGUE[code];
      const expected = 'conflictStatus' in spec ? `${spec.status} / ${spec.conflictStatus}` : String(spec.status);
      expect(rows.get(code), code).toBe(expected);
    }
  });
});
