import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/catalogue.js';
import { SEVERITY_BY_STATUS, activityId, toOcsf } from '../../src/audit/ocsf-record.js';
import type { AuditEvent } from '../../src/audit/types.js';

const META = { productVersion: '0.1.0', sequence: 7, eventUid: 'evt_1' };
const T = Date.UTC(2026, 10, 24, 12, 0, 0);

const call: AuditEvent = {
  event: 'tool.call',
  time: T,
  requestId: 'req_1',
  status: 'ok',
  disposition: 'allowed',
  actor: { id: 'agent-a', type: 'agent' },
  sessionId: 'ses_1',
  tokenJti: 'jti_1',
  epoch: 3,
  taskId: 'task_1',
  authorizations: [
    { decision: 'allow', ruleId: 'r-allow' },
    { decision: 'deny', ruleId: 'r-shadow', shadow: true },
  ],
  policyRevision: 'rev-9',
  tool: 'github',
  method: 'POST',
  path: '/repos/x/issues',
  httpStatus: 201,
  durationMs: 12,
  srcIp: '127.0.0.1',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  extra: { body_sha256: 'ab'.repeat(32), idempotency_key: 'k1' },
};

/** Every key path in a JSON value (array indices as []). */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => keyPaths(v, `${prefix}[]`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => {
      const path = prefix === '' ? k : `${prefix}.${k}`;
      return [path, ...keyPaths(v, path)];
    });
  }
  return [];
}

describe('toOcsf', () => {
  it('fills the OCSF 1.9.0 record_integrity attestation from the chain link, with prev_event only after the first record', () => {
    const prev = { uid: 'evt_0', typeUid: 600399, hash: 'cd'.repeat(32) };
    const linked = toOcsf({ event: 'gateway.stop', time: T, status: 'ok' }, { ...META, integrity: { chainUid: 'chn_1', prev } });
    expect(linked.metadata).toMatchObject({ version: '1.9.0', profiles: ['record_integrity'] });
    expect(linked.attestation_list).toEqual([
      { chain_uid: 'chn_1', prev_event: { uid: 'evt_0', type_uid: 600399, fingerprint: { algorithm_id: 3, algorithm: 'SHA-256', value: 'cd'.repeat(32) } } },
    ]);
    const first = toOcsf(call, { ...META, integrity: { chainUid: 'chn_1' } });
    expect(first.attestation_list).toEqual([{ chain_uid: 'chn_1' }]);
    expect((first.metadata as { profiles: string[] }).profiles).toEqual(['ai_operation', 'record_integrity']);
    expect(Object.keys(first).at(-1)).toBe('unmapped');
  });

  it('maps a successful tool.call to an OCSF 1.9.0 API Activity Create record', () => {
    const r = toOcsf(call, META);
    expect(r).toEqual({
      class_uid: 6003,
      category_uid: 6,
      activity_id: 1,
      type_uid: 600301,
      time: T,
      severity_id: 1,
      status_id: 1,
      status_code: 'ok',
      status_detail: 'OK',
      action_id: 1,
      disposition_id: 1,
      metadata: {
        version: '1.9.0',
        uid: 'evt_1',
        correlation_uid: 'req_1',
        sequence: 7,
        product: { name: 'epochgate', version: '0.1.0' },
        profiles: ['ai_operation'],
      },
      actor: {
        user: { uid: 'agent-a', type: 'agent' },
        session: { uid: 'ses_1', credential_uid: 'jti_1' },
        authorizations: [
          { decision: 'allow', policy: { uid: 'r-allow', version: 'rev-9', is_applied: true } },
          { decision: 'deny', policy: { uid: 'r-shadow', version: 'rev-9', is_applied: false } },
        ],
      },
      api: { operation: 'tool.call', service: { name: 'github' } },
      src_endpoint: { ip: '127.0.0.1' },
      http_request: { http_method: 'POST', url: { path: '/repos/x/issues' } },
      http_response: { code: 201 },
      duration: 12,
      trace: { uid: '4bf92f3577b34da6a3ce929d0e0e4736' },
      ai_agent: { uid: 'agent-a', instance_uid: 'ses_1' },
      delegation: { uid: 'ses_1' },
      unmapped: { epochgate: { event: 'tool.call', epoch: 3, task_id: 'task_1', body_sha256: 'ab'.repeat(32), idempotency_key: 'k1' } },
    });
    expect(Object.keys(r).at(-1)).toBe('unmapped');
  });

  it('records a policy_denied call with severity 3, action denied, disposition blocked', () => {
    const r = toOcsf({ ...call, status: 'policy_denied', disposition: 'blocked', detail: 'rule r-deny', httpStatus: 403, method: 'GET' }, META);
    expect(r).toMatchObject({
      activity_id: 2,
      type_uid: 600302,
      severity_id: 3,
      status_id: 2,
      status_code: 'policy_denied',
      status_detail: 'rule r-deny',
      action_id: 2,
      disposition_id: 2,
      http_response: { code: 403 },
    });
  });

  it('records a session_stale_epoch rejection with severity 4 and the catalogue title as detail', () => {
    const r = toOcsf({ event: 'tool.call', time: T, status: 'session_stale_epoch', method: 'DELETE', httpStatus: 401 }, META);
    expect(r).toMatchObject({
      activity_id: 4,
      type_uid: 600304,
      severity_id: 4,
      status_id: 2,
      status_code: 'session_stale_epoch',
      status_detail: 'The token is from an older epoch; resume required',
      action_id: 2,
      disposition_id: 2,
    });
  });

  it('records store_unavailable with severity 5', () => {
    const r = toOcsf({ event: 'session.resume', time: T, status: 'store_unavailable', httpStatus: 503 }, META);
    expect(r).toMatchObject({ activity_id: 3, type_uid: 600303, severity_id: 5, status_id: 2, action_id: 2 });
  });

  it('classifies every catalogue code with a severity from 2 to 5', () => {
    for (const code of ERROR_CODES) expect(SEVERITY_BY_STATUS[code]).toBeGreaterThanOrEqual(2);
    expect(SEVERITY_BY_STATUS.internal_error).toBe(5);
    expect(SEVERITY_BY_STATUS.approval_required).toBe(3);
    expect(SEVERITY_BY_STATUS.assertion_replayed).toBe(4);
    expect(SEVERITY_BY_STATUS.bad_request).toBe(2);
  });

  it('derives activity_id from the method for tool.call and from the event otherwise; type_uid = 600300 + activity_id', () => {
    const cases: [AuditEvent['event'], string | undefined, number][] = [
      ['tool.call', 'POST', 1],
      ['tool.call', 'get', 2],
      ['tool.call', 'HEAD', 2],
      ['tool.call', 'PUT', 3],
      ['tool.call', 'PATCH', 3],
      ['tool.call', 'DELETE', 4],
      ['tool.call', 'OPTIONS', 99],
      ['tool.call', undefined, 99],
      ['tool.call', 'GET', 2],
      ['session.create', 'POST', 1],
      ['session.resume', 'POST', 3],
      ['session.checkpoint', 'POST', 3],
      ['session.close', 'POST', 3],
      ['approval.approve', 'POST', 3],
      ['approval.deny', 'POST', 3],
      ['gateway.start', undefined, 99],
    ];
    for (const [event, method, expected] of cases) {
      expect(activityId({ event, method }), `${event} ${method}`).toBe(expected);
      const r = toOcsf({ event, time: T, status: 'ok', ...(method !== undefined && { method }) }, META);
      expect(r.type_uid).toBe(600300 + expected);
    }
  });

  it('maps dispositions approved 8, delayed 14, rejected 25', () => {
    expect(toOcsf({ ...call, disposition: 'approved' }, META)).toMatchObject({ disposition_id: 8, action_id: 1 });
    expect(toOcsf({ ...call, status: 'approval_required', disposition: 'delayed' }, META)).toMatchObject({ disposition_id: 14, action_id: 2 });
    expect(toOcsf({ ...call, status: 'approval_denied', disposition: 'rejected' }, META)).toMatchObject({ disposition_id: 25, action_id: 2 });
  });

  it('omits absent optional members instead of writing null', () => {
    const r = toOcsf({ event: 'gateway.stop', time: T, status: 'ok' }, META);
    expect(Object.keys(r)).toEqual([
      'class_uid', 'category_uid', 'activity_id', 'type_uid', 'time', 'severity_id', 'status_id', 'status_code',
      'status_detail', 'action_id', 'disposition_id', 'metadata', 'api', 'unmapped',
    ]);
    expect(r.metadata).toEqual({ version: '1.9.0', uid: 'evt_1', sequence: 7, product: { name: 'epochgate', version: '0.1.0' } });
    expect(JSON.stringify(r)).not.toContain('null');
  });

  it('writes no member that is not mapped from the AuditEvent contract', () => {
    const leaky = { ...call, token: 'eyJhbGciOi.secret', authorization: 'Bearer s3cret', body: '{"password":"x"}' } as AuditEvent;
    const json = JSON.stringify(toOcsf(leaky, META));
    expect(json).not.toMatch(/eyJhbGciOi|s3cret|password/);
    const allowed = new Set([
      ...['class_uid', 'category_uid', 'activity_id', 'type_uid', 'time', 'severity_id', 'status_id', 'status_code'],
      ...['status_detail', 'action_id', 'disposition_id', 'duration'],
      ...['metadata', 'metadata.version', 'metadata.uid', 'metadata.correlation_uid', 'metadata.sequence'],
      ...['metadata.product', 'metadata.product.name', 'metadata.product.version'],
      ...['actor', 'actor.user', 'actor.user.uid', 'actor.user.type', 'actor.session', 'actor.session.uid'],
      ...['actor.session.credential_uid', 'actor.authorizations', 'actor.authorizations[].decision'],
      ...['actor.authorizations[].policy', 'actor.authorizations[].policy.uid', 'actor.authorizations[].policy.version'],
      ...['actor.authorizations[].policy.is_applied'],
      ...['api', 'api.operation', 'api.service', 'api.service.name', 'src_endpoint', 'src_endpoint.ip'],
      ...['http_request', 'http_request.http_method', 'http_request.url', 'http_request.url.path'],
      ...['http_response', 'http_response.code', 'trace', 'trace.uid'],
      ...['metadata.profiles', 'ai_agent', 'ai_agent.uid', 'ai_agent.instance_uid', 'delegation', 'delegation.uid'],
      ...['unmapped', 'unmapped.epochgate', 'unmapped.epochgate.event', 'unmapped.epochgate.epoch', 'unmapped.epochgate.task_id'],
      ...['unmapped.epochgate.body_sha256', 'unmapped.epochgate.idempotency_key'],
    ]);
    const paths = keyPaths(JSON.parse(json));
    expect(paths.filter((p) => !allowed.has(p))).toEqual([]);
  });

  it('keeps the named members and drops a chain member when extra tries to override them', () => {
    const r = toOcsf({ ...call, extra: { event: 'forged', epoch: 99, chain: { hash: 'x' }, replayed: true } }, META);
    expect(r.unmapped).toEqual({ epochgate: { event: 'tool.call', epoch: 3, task_id: 'task_1', replayed: true } });
  });

  it('keeps an extra member named __proto__ as data, without changing any prototype', () => {
    const extra = JSON.parse('{"__proto__":{"polluted":true},"n":1}') as Record<string, unknown>;
    const r = toOcsf({ event: 'tool.call', time: T, status: 'ok', extra }, META);
    const epochgate = (r.unmapped as { epochgate: Record<string, unknown> }).epochgate;
    expect(Object.hasOwn(epochgate, '__proto__')).toBe(true);
    expect((epochgate as { polluted?: unknown }).polluted).toBeUndefined();
    expect(JSON.stringify(r)).toContain('"epochgate":{"event":"tool.call","__proto__":{"polluted":true},"n":1}');
  });

  it('writes members in the documented order whichever optionals are present', () => {
    const json = JSON.stringify(toOcsf(call, META));
    const order = ['"class_uid"', '"time"', '"status_detail"', '"disposition_id"', '"metadata"', '"correlation_uid"', '"sequence"', '"product"', '"actor"', '"user"', '"session"', '"authorizations"', '"api"', '"src_endpoint"', '"http_request"', '"http_response"', '"duration"', '"trace"', '"unmapped"', '"body_sha256"', '"idempotency_key"'];
    const positions = order.map((member) => json.indexOf(member));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('keeps the policy revision of an event without authorizations in unmapped.epochgate', () => {
    const r = toOcsf({ event: 'policy.load', time: T, status: 'ok', policyRevision: 'rev-2' }, META);
    expect(r.unmapped).toEqual({ epochgate: { event: 'policy.load', policy_revision: 'rev-2' } });
    expect(r.actor).toBeUndefined();
  });

  it('omits policy.uid when no rule decided (default deny)', () => {
    const r = toOcsf({ event: 'tool.call', time: T, status: 'policy_denied', authorizations: [{ decision: 'deny', ruleId: null }] }, META);
    expect(r.actor).toEqual({ authorizations: [{ decision: 'deny', policy: { is_applied: true } }] });
  });
});
