// SPEC §13: every record the gateway writes is an OCSF 1.9.0 API Activity record that matches the shipped
// JSON Schema (src/audit/audit-record.schema.json), and every event the gateway can emit here is emitted.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../src/errors/catalogue.js';
import { ManualClock } from '../../src/util/clock.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { runBroadScenario } from '../helpers/audit-scenario.js';
import { jwtAgent } from '../helpers/jwt-agent.js';
import { AUDIT_SCHEMA, auditRecordProblems, expectValidAuditFile, type AuditRecord } from '../helpers/audit-schema.js';

// The SPEC §13 events this scenario triggers: all but ledger.unknown, which needs an upstream call whose
// outcome is lost (timeout, reset or a crash mid-call; covered by the ledger's own tests).
const EXPECTED_EVENTS = [
  'tool.call',
  'session.create',
  'session.resume',
  'session.token',
  'session.checkpoint',
  'session.suspend',
  'session.close',
  'session.revoke',
  'session.lease_expired',
  'approval.request',
  'approval.approve',
  'approval.deny',
  'approval.consume',
  'approval.expire',
  'ledger.replay',
  'policy.load',
  'policy.reload_failed',
  'gateway.start',
  'gateway.stop',
  'audit.anchor',
];

describe('audit records against the shipped JSON Schema (SPEC §13)', () => {
  let upstream: TestUpstream;
  let t: TestGateway;
  let records: AuditRecord[];

  beforeAll(async () => {
    upstream = await startUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'epochgate-audit-schema-'));
    const jwt = await jwtAgent(dir);
    const clock = new ManualClock(Date.now());
    t = await startTestGateway({ upstreamUrl: upstream.url, policy: jwt.policy, dir, clock });
    await runBroadScenario({ gw: t.gw, control: t.control, data: t.data, clock, policyDir: t.policyDir, jwt, upstreamCalls: () => upstream.seen.length });
    await t.close();
    records = expectValidAuditFile(t.auditFile);
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('emits every SPEC §13 event the scenario can trigger at least once', () => {
    const seen = new Set(records.map((r) => r.unmapped.epochgate.event));
    expect(EXPECTED_EVENTS.filter((event) => !seen.has(event))).toEqual([]);
    expect(records[0]!.unmapped.epochgate.event).toBe('policy.load');
    // SPEC §13 "Anchors": the stop anchor covers gateway.stop, so it is the last record.
    expect(records.at(-2)!.unmapped.epochgate.event).toBe('gateway.stop');
    expect(records.at(-1)!.unmapped.epochgate.event).toBe('audit.anchor');
    expect(records.at(-1)!.unmapped.epochgate.anchor).toMatchObject({ sequence: records.at(-2)!.metadata.sequence, hash: records.at(-2)!.unmapped.epochgate.chain.hash });
  });

  it('fills the OCSF 1.9.0 record_integrity attestation with the same chain facts as unmapped.epochgate.chain', () => {
    records.forEach((r, i) => {
      const chain = r.unmapped.epochgate.chain;
      expect(r.metadata.version).toBe('1.9.0');
      expect(r.metadata.profiles).toContain('record_integrity');
      expect(r.attestation_list).toHaveLength(1);
      expect(r.attestation_list[0].chain_uid).toBe(chain.uid);
      if (r.metadata.sequence === 1) {
        expect(r.attestation_list[0].prev_event).toBeUndefined();
        return;
      }
      const prev = records[i - 1]!;
      expect(r.attestation_list[0].prev_event).toEqual({
        uid: prev.metadata.uid,
        type_uid: prev.type_uid,
        fingerprint: { algorithm_id: 3, algorithm: 'SHA-256', value: chain.prev_hash },
      });
      expect(chain.prev_hash).toBe(prev.unmapped.epochgate.chain.hash);
    });
  });

  it('names an AI agent in the OCSF 1.9.0 ai_operation profile (ai_agent, delegation) next to actor.user', () => {
    const call = records.find((r) => r.api.operation === 'tool.call' && r.status_code === 'ok')!;
    expect(call.metadata.profiles).toEqual(['ai_operation', 'record_integrity']);
    expect(call.ai_agent).toEqual({ uid: call.actor.user.uid, instance_uid: call.actor.session.uid });
    expect(call.delegation).toEqual({ uid: call.actor.session.uid });
    const system = records.find((r) => r.api.operation === 'gateway.start')!;
    expect(system.ai_agent).toBeUndefined();
    expect(system.metadata.profiles).toEqual(['record_integrity']);
  });

  it('writes exactly one tool.call record per data-plane request, with the outcome code', () => {
    const calls = records.filter((r) => r.api.operation === 'tool.call');
    expect(new Set(calls.map((r) => r.metadata.correlation_uid)).size).toBe(calls.length);
    const codes = calls.map((r) => r.status_code);
    for (const code of ['ok', 'policy_denied', 'approval_required', 'approval_denied', 'route_not_found', 'token_missing', 'token_invalid', 'session_stale_epoch', 'session_suspended', 'session_closed', 'session_revoked']) {
      expect(codes).toContain(code);
    }
  });

  it('maps activity, severity, action and disposition as SPEC §13 says', () => {
    const find = (event: string, code: string) => records.find((r) => r.api.operation === event && r.status_code === code)!;
    expect(find('session.create', 'ok')).toMatchObject({ activity_id: 1, type_uid: 600301, severity_id: 1, status_id: 1, action_id: 1, disposition_id: 1 });
    expect(find('session.resume', 'ok')).toMatchObject({ activity_id: 3, type_uid: 600303 });
    expect(find('tool.call', 'ok')).toMatchObject({ activity_id: 2, type_uid: 600302, http_request: { http_method: 'GET' } });
    expect(find('tool.call', 'policy_denied')).toMatchObject({ severity_id: 3, status_id: 2, action_id: 2, disposition_id: 2 });
    expect(find('tool.call', 'session_stale_epoch')).toMatchObject({ severity_id: 4, http_response: { code: 401 } });
    expect(find('session.create', 'assertion_replayed')).toMatchObject({ severity_id: 4 });
    expect(find('tool.call', 'route_not_found')).toMatchObject({ severity_id: 2 });
    expect(find('policy.load', 'ok')).toMatchObject({ activity_id: 99, type_uid: 600399 });
    expect(find('policy.reload_failed', 'policy_invalid')).toMatchObject({ status_id: 2, severity_id: 3 });
    const denied = find('tool.call', 'policy_denied');
    expect(denied.actor.authorizations[0]).toMatchObject({ decision: 'deny', policy: { uid: 'never-admin', is_applied: true } });
    expect(denied.actor.authorizations[0].policy.version).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records the path without the token for the /s/{token}/ form', () => {
    const paths = records.filter((r) => r.api.operation === 'tool.call').map((r) => r.http_request.url.path as string);
    expect(paths).toContain('/tools/billing/invoices/2');
    expect(paths.every((p) => !p.startsWith('/s/'))).toBe(true);
  });

  it('lists exactly the catalogue codes, ok and policy_invalid as status codes in the schema', () => {
    const codes = AUDIT_SCHEMA.$defs.statusCode.enum as string[];
    expect([...codes].sort()).toEqual(['ok', 'policy_invalid', 'keys_invalid', ...Object.keys(CATALOGUE)].sort());
  });

  it('rejects records that break the schema (the check can fail)', () => {
    const good = structuredClone(records.find((r) => r.api.operation === 'tool.call' && r.status_code === 'ok')!);
    expect(auditRecordProblems(good)).toEqual([]);
    const broken: [string, (r: AuditRecord) => void, string][] = [
      ['wrong class', (r) => (r.class_uid = 3005), '/class_uid'],
      ['type_uid not 600300 + activity_id', (r) => (r.type_uid = 600301), '/type_uid'],
      ['a body smuggled into unmapped', (r) => (r.unmapped.epochgate.body = { secret: 'x' }), '/unmapped/epochgate/body'],
      ['an unknown top-level member', (r) => (r.token = 'eyJ'), '/token'],
      ['a missing sequence', (r) => delete r.metadata.sequence, 'sequence'],
      ['a short chain hash', (r) => (r.unmapped.epochgate.chain.hash = 'abc'), '/unmapped/epochgate/chain/hash'],
      ['tool.call without src_endpoint', (r) => delete r.src_endpoint, 'src_endpoint'],
      ['a string time', (r) => (r.time = String(r.time)), '/time'],
      ['an MD5 prev_event fingerprint', (r) => (r.attestation_list[0].prev_event.fingerprint.algorithm_id = 1), '/attestation_list/0/prev_event/fingerprint/algorithm_id'],
      ['an unknown profile', (r) => r.metadata.profiles.push('cloud'), '/metadata/profiles/2'],
    ];
    for (const [name, edit, where] of broken) {
      const copy = structuredClone(good);
      edit(copy);
      expect(auditRecordProblems(copy).join('\n'), name).toContain(where);
    }
  });
});
