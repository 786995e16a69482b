// SPEC §14: GET /metrics (control plane) in Prometheus text after real traffic: the listed series with
// the right types and units, counts that match the traffic, and no session or agent ids as labels.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_SECRET, AGENT_SECRET, OTHER_AGENT_SECRET, defaultPolicy, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { ManualClock } from '../../src/util/clock.js';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Prometheus text exposition format 0.0.4: `# TYPE name type` lines and `name{l="v",…} value` samples. */
function parseMetrics(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { types, samples };
}

describe('metrics (SPEC §14)', () => {
  let upstream: TestUpstream;
  let t: TestGateway;
  let types: Map<string, string>;
  let samples: Sample[];
  let raw: string;
  let contentType: string | string[] | undefined;
  let approvalRequested = false;

  const value = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);

  beforeAll(async () => {
    // Request durations come from the injected clock: each forwarded call takes exactly 250 ms of it.
    const clock = new ManualClock(Date.now());
    upstream = await startUpstream((_req, res, body) => {
      clock.advance(250);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ body }));
    });
    t = await startTestGateway({ upstreamUrl: upstream.url, clock });
    const a = (await postJson(`${t.control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: 'm-a' })).json;
    const b = (await postJson(`${t.control}/v1/sessions`, { agent_id: 'other-bot', client_secret: OTHER_AGENT_SECRET, task_id: 'm-b' })).json;
    const tool = (path: string) => `${t.data}/tools/billing${path}`;
    for (const n of [1, 2, 3]) expect((await call(tool(`/invoices/${n}`), { headers: bearer(a.token) })).status).toBe(200);
    expect((await call(tool('/admin/x'), { headers: bearer(a.token) })).status).toBe(403);
    expect((await call(`${t.data}/tools/nope/x`)).status).toBe(404);
    expect((await call(tool('/invoices/1'))).status).toBe(401);
    const refund = await call(tool('/refunds'), { method: 'POST', headers: { ...bearer(a.token), 'content-type': 'application/json' }, body: '{"amount":1}' });
    expect(refund.json.code).toBe('approval_required');
    approvalRequested = typeof refund.json.approval_id === 'string';
    expect((await postJson(`${t.control}/v1/sessions/${a.session_id}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET })).status).toBe(200);
    expect((await postJson(`${t.control}/v1/sessions/${b.session_id}/revoke`, {}, bearer(ADMIN_SECRET))).status).toBe(200);
    t.writePolicy(`${defaultPolicy()}# edited\n`);
    expect(await t.gw.reloadPolicy()).toBe(true);
    t.writePolicy(`${defaultPolicy()}colour: red\n`);
    expect(await t.gw.reloadPolicy()).toBe(false);
    t.writePolicy(defaultPolicy());
    const res = await call(`${t.control}/metrics`);
    expect(res.status).toBe(200);
    raw = res.text;
    contentType = res.headers['content-type'];
    ({ types, samples } = parseMetrics(raw));
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('serves the Prometheus text format', () => {
    expect(String(contentType)).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('exposes every SPEC §14 series with the right type', () => {
    expect(Object.fromEntries([...types].filter(([name]) => name.startsWith('epochgate_')))).toEqual({
      epochgate_requests_total: 'counter',
      epochgate_request_duration_seconds: 'histogram',
      epochgate_upstream_duration_seconds: 'histogram',
      epochgate_sessions: 'gauge',
      epochgate_resumes_total: 'counter',
      epochgate_approvals: 'gauge',
      epochgate_policy_reloads_total: 'counter',
      epochgate_store_errors_total: 'counter',
      epochgate_internal_errors_total: 'counter',
      epochgate_notification_deliveries_total: 'counter',
      epochgate_notification_errors_total: 'counter',
      epochgate_notifications: 'gauge',
    });
  });

  it('counts data-plane requests by tool and code', () => {
    expect(value('epochgate_requests_total', { tool: 'billing', code: 'ok' })).toBe(3);
    expect(value('epochgate_requests_total', { tool: 'billing', code: 'policy_denied' })).toBe(1);
    expect(value('epochgate_requests_total', { tool: 'billing', code: 'token_missing' })).toBe(1);
    expect(value('epochgate_requests_total', { tool: 'billing', code: 'approval_required' })).toBe(1);
    // An unknown tool is not echoed into a label (unbounded cardinality): it is counted under tool="".
    expect(value('epochgate_requests_total', { tool: '', code: 'route_not_found' })).toBe(1);
    expect(samples.some((s) => s.labels.tool === 'nope')).toBe(false);
    expect(value('epochgate_requests_total')).toBe(7);
  });

  it('observes durations in seconds: every request, and only forwarded calls upstream', () => {
    expect(value('epochgate_request_duration_seconds_count')).toBe(7);
    expect(value('epochgate_upstream_duration_seconds_count')).toBe(3);
    const buckets = samples.filter((s) => s.name === 'epochgate_request_duration_seconds_bucket').map((s) => s.labels.le);
    expect(buckets).toContain('0.001');
    expect(buckets).toContain('+Inf');
    // Three forwarded calls of 250 ms each on the injected clock; the four refused ones took no time on it.
    expect(value('epochgate_request_duration_seconds_sum')).toBe(0.75);
    expect(value('epochgate_request_duration_seconds_bucket', { le: '0.1' })).toBe(4);
    expect(value('epochgate_request_duration_seconds_bucket', { le: '0.25' })).toBe(7);
  });

  it('reports sessions by state, resumes and policy reloads by result', () => {
    expect(value('epochgate_sessions', { state: 'active' })).toBe(1);
    expect(value('epochgate_sessions', { state: 'revoked' })).toBe(1);
    expect(value('epochgate_sessions', { state: 'suspended' })).toBe(0);
    expect(value('epochgate_sessions', { state: 'closed' })).toBe(0);
    expect(value('epochgate_resumes_total')).toBe(1);
    // The initial load counts as a success, then one good and one refused reload.
    expect(value('epochgate_policy_reloads_total', { result: 'success' })).toBe(2);
    expect(value('epochgate_policy_reloads_total', { result: 'failure' })).toBe(1);
    expect(value('epochgate_store_errors_total')).toBe(0);
  });

  it('reports approvals by state, read from the store at scrape time', () => {
    const states = samples.filter((s) => s.name === 'epochgate_approvals').map((s) => s.labels.state).sort();
    expect(states).toEqual(['approved', 'consumed', 'denied', 'expired', 'pending']);
    expect(value('epochgate_approvals', { state: 'pending' })).toBe(approvalRequested ? 1 : 0);
  });

  it('never uses session, agent, task or request ids as label values', () => {
    const labelValues = samples.flatMap((s) => Object.values(s.labels));
    expect(labelValues.filter((v) => /^(ses|req|jti|evt|chk)_/.test(v) || /bot|m-a|m-b/.test(v))).toEqual([]);
    expect(raw).not.toContain('billing-bot');
  });
});
