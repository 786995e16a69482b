// SPEC §5, §7: the control API with exact status codes and bodies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_SECRET, AGENT_SECRET, APPROVER_SECRET, OTHER_AGENT_SECRET, defaultPolicy, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { barrierOn } from '../helpers/barrier.js';
import { ManualClock } from '../../src/util/clock.js';

const CRED = { agent_id: 'billing-bot', client_secret: AGENT_SECRET };

describe('control plane (SPEC §7)', () => {
  let upstream: TestUpstream;
  let t: TestGateway;
  let n = 0;

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestGateway({ upstreamUrl: upstream.url });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  const create = (body: Record<string, unknown> = {}) => postJson(`${t.control}/v1/sessions`, { ...CRED, task_id: `t-${++n}`, ...body });
  const resume = (id: string, body: Record<string, unknown> = {}) => postJson(`${t.control}/v1/sessions/${id}/resume`, { ...CRED, ...body });

  it('creates a session: 201 with token, epoch 1, scope, tool_urls built from the public URL', async () => {
    const res = await create();
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json).toMatchObject({ agent_id: 'billing-bot', state: 'active', epoch: 1, token_type: 'Bearer', scope: ['billing', 'crm'] });
    expect(res.json.session_id).toMatch(/^ses_[A-Za-z0-9_-]{22,}$/);
    expect(res.json.tool_urls).toEqual({ billing: `${t.data}/tools/billing`, crm: `${t.data}/tools/crm` });
    expect(Date.parse(res.json.expires_at)).toBeGreaterThan(Date.now());
    expect(Date.parse(res.json.lease_expires_at)).toBeGreaterThan(Date.now());
  });

  it('answers 409 session_exists with the open session id for the same agent and task', async () => {
    const first = await create({ task_id: 'dup-task' });
    const second = await postJson(`${t.control}/v1/sessions`, { ...CRED, task_id: 'dup-task' });
    expect(second.status).toBe(409);
    expect(second.json).toMatchObject({ code: 'session_exists', session_id: first.json.session_id });
  });

  it('narrows scope on request and refuses a tool the agent cannot reach with scope_exceeded', async () => {
    expect((await create({ scope: ['billing'] })).json.scope).toEqual(['billing']);
    const wide = await create({ scope: ['billing', 'payroll'] });
    expect(wide.status).toBe(403);
    expect(wide.json).toMatchObject({ code: 'scope_exceeded', tools: ['payroll'] });
    expect(wide.headers['www-authenticate']).toBeUndefined();
  });

  it('refuses a bad secret and an unknown agent alike with credential_invalid, without a challenge', async () => {
    const bad = await postJson(`${t.control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: 'wrong' });
    const unknown = await postJson(`${t.control}/v1/sessions`, { agent_id: 'ghost', client_secret: 'wrong' });
    for (const res of [bad, unknown]) {
      expect(res.status).toBe(401);
      expect(res.json.code).toBe('credential_invalid');
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.text).not.toContain('wrong');
    }
  });

  it('answers invalid_request listing field paths for unknown fields and bad types', async () => {
    const res = await postJson(`${t.control}/v1/sessions`, { ...CRED, colour: 'red', scope: 'billing' });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('invalid_request');
    const paths = res.json.errors.map((e: { path: string }) => e.path);
    expect(paths).toContain('scope');
    expect(JSON.stringify(res.json.errors)).toContain('colour');
    const notJson = await call(`${t.control}/v1/sessions`, { method: 'POST', body: '{oops' });
    expect(notJson.json.code).toBe('invalid_request');
    const badEpoch = await resume('ses_x', { expected_epoch: 0 });
    expect(badEpoch.json.code).toBe('invalid_request');
  });

  it('resumes: epoch + 1, new token, previous_epoch, latest checkpoint with state', async () => {
    const s = (await create()).json;
    const cp = await postJson(`${t.control}/v1/sessions/${s.session_id}/checkpoints`, { label: 'half', state: { b: 2, a: [1] } }, bearer(s.token));
    expect(cp.status).toBe(201);
    expect(cp.json).toMatchObject({ seq: 1, epoch: 1, label: 'half' });
    expect(cp.json.state_digest).toMatch(/^[0-9a-f]{64}$/);
    const res = await resume(s.session_id, { expected_epoch: 1 });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ epoch: 2, previous_epoch: 1, state: 'active', approvals: [] });
    expect(res.json.checkpoint).toMatchObject({ seq: 1, label: 'half', state: { a: [1], b: 2 } });
    expect(res.json.token).not.toBe(s.token);
  });

  it('answers epoch_conflict with current_epoch when expected_epoch is stale, changing nothing', async () => {
    const s = (await create()).json;
    expect((await resume(s.session_id, { expected_epoch: 1 })).status).toBe(200);
    const res = await resume(s.session_id, { expected_epoch: 1 });
    expect(res.status).toBe(409);
    expect(res.json).toMatchObject({ code: 'epoch_conflict', current_epoch: 2 });
    const view = await call(`${t.control}/v1/sessions/${s.session_id}`, { headers: bearer(ADMIN_SECRET) });
    expect(view.json.epoch).toBe(2);
  });

  it('lets exactly one of two concurrent resumes with the same expected_epoch win; the other gets 409 epoch_conflict', async () => {
    const s = (await create()).json;
    // Both resumes are held in the store until both have read the session at epoch 1: only the store's
    // compare-and-set on the epoch can pick the winner.
    const barrier = barrierOn(t.gw.store.sessions, 'resume');
    try {
      const results = await Promise.all([resume(s.session_id, { expected_epoch: 1 }), resume(s.session_id, { expected_epoch: 1 })]);
      expect(await barrier.overlapped).toBe(true);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(results.find((r) => r.status === 409)!.json).toMatchObject({ code: 'epoch_conflict', current_epoch: 2 });
      expect(results.find((r) => r.status === 200)!.json.epoch).toBe(2);
    } finally {
      barrier.restore();
    }
    const view = await call(`${t.control}/v1/sessions/${s.session_id}`, { headers: bearer(ADMIN_SECRET) });
    expect(view.json).toMatchObject({ epoch: 2, resumes: 1 });
  });

  it('refuses another agent resuming the session with forbidden, and an unknown session with session_not_found', async () => {
    const s = (await create()).json;
    const other = await postJson(`${t.control}/v1/sessions/${s.session_id}/resume`, { agent_id: 'other-bot', client_secret: OTHER_AGENT_SECRET });
    expect(other.status).toBe(403);
    expect(other.json.code).toBe('forbidden');
    expect((await resume('ses_unknown')).status).toBe(404);
    expect((await resume('ses_unknown')).json.code).toBe('session_not_found');
  });

  it('narrows scope on resume after a policy edit and never widens it back past the original', async () => {
    const s = (await create({ scope: ['billing'] })).json;
    t.writePolicy(defaultPolicy().replace('tools: [billing]\n    methods: [GET, HEAD, POST]', 'tools: [crm]\n    methods: [GET, HEAD, POST]').replace(/  - id: refunds-need-approval[\s\S]*?(?=  - id: never-admin)/, ''));
    expect(await t.gw.reloadPolicy()).toBe(true);
    try {
      const narrowed = await resume(s.session_id);
      expect(narrowed.status).toBe(403);
      expect(narrowed.json.code).toBe('scope_empty');
      const wide = (await create()).json;
      expect(wide.scope).toEqual(['crm']);
    } finally {
      t.writePolicy(defaultPolicy());
      expect(await t.gw.reloadPolicy()).toBe(true);
    }
    const restored = await resume(s.session_id);
    expect(restored.status).toBe(200);
    expect(restored.json.scope).toEqual(['billing']);
  });

  it('answers resume_limit when max_resumes is reached', async () => {
    t.writePolicy(`${defaultPolicy()}sessions:\n  max_resumes: 1\n`);
    expect(await t.gw.reloadPolicy()).toBe(true);
    try {
      const s = (await create()).json;
      expect((await resume(s.session_id)).status).toBe(200);
      const res = await resume(s.session_id);
      expect(res.status).toBe(403);
      expect(res.json.code).toBe('resume_limit');
    } finally {
      t.writePolicy(defaultPolicy());
      await t.gw.reloadPolicy();
    }
  });

  it('refreshes a token for the current epoch, and refuses it with 409 once the session is suspended', async () => {
    const s = (await create()).json;
    const fresh = await postJson(`${t.control}/v1/sessions/${s.session_id}/token`, CRED);
    expect(fresh.status).toBe(200);
    expect(fresh.json.epoch).toBe(1);
    expect((await call(`${t.data}/tools/billing/invoices/1`, { headers: bearer(fresh.json.token) })).status).toBe(200);
    expect((await postJson(`${t.control}/v1/sessions/${s.session_id}/suspend`, { reason: 'pause' }, bearer(s.token))).json.state).toBe('suspended');
    const refused = await postJson(`${t.control}/v1/sessions/${s.session_id}/token`, CRED);
    expect(refused.status).toBe(409);
    expect(refused.json.code).toBe('session_suspended');
    const resumed = await resume(s.session_id);
    expect(resumed.status).toBe(200);
  });

  it('answers 409 session_closed and session_revoked to resume of a final session', async () => {
    const closed = (await create()).json;
    expect((await postJson(`${t.control}/v1/sessions/${closed.session_id}/close`, {}, bearer(closed.token))).json.state).toBe('closed');
    expect((await resume(closed.session_id)).json).toMatchObject({ status: 409, code: 'session_closed' });
    const revoked = (await create()).json;
    await postJson(`${t.control}/v1/sessions/${revoked.session_id}/revoke`, {}, bearer(ADMIN_SECRET));
    expect((await resume(revoked.session_id)).json).toMatchObject({ status: 409, code: 'session_revoked' });
  });


  it('refuses a session token on another session with forbidden, and a stale one with session_stale_epoch', async () => {
    const a = (await create()).json;
    const b = (await create()).json;
    const cross = await postJson(`${t.control}/v1/sessions/${b.session_id}/heartbeat`, {}, bearer(a.token));
    expect(cross.status).toBe(403);
    expect(cross.json.code).toBe('forbidden');
    await resume(a.session_id);
    const stale = await postJson(`${t.control}/v1/sessions/${a.session_id}/checkpoints`, { label: 'late' }, bearer(a.token));
    expect(stale.status).toBe(401);
    expect(stale.json.code).toBe('session_stale_epoch');
  });

  it('lets only an admin revoke and list sessions', async () => {
    const s = (await create()).json;
    const approver = await postJson(`${t.control}/v1/sessions/${s.session_id}/revoke`, {}, bearer(APPROVER_SECRET));
    expect(approver.status).toBe(403);
    expect(approver.json.code).toBe('forbidden');
    const wrong = await postJson(`${t.control}/v1/sessions/${s.session_id}/revoke`, {}, bearer('not-a-person'));
    expect(wrong.status).toBe(401);
    expect(wrong.json.code).toBe('credential_invalid');
    expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"');
    expect((await call(`${t.control}/v1/sessions`, { headers: bearer(APPROVER_SECRET) })).status).toBe(403);
    const list = await call(`${t.control}/v1/sessions?agent_id=billing-bot&state=active`, { headers: bearer(ADMIN_SECRET) });
    expect(list.status).toBe(200);
    expect(list.json.sessions.some((x: { session_id: string }) => x.session_id === s.session_id)).toBe(true);
    expect(list.json.sessions.every((x: { state: string }) => x.state === 'active')).toBe(true);
    expect((await call(`${t.control}/v1/sessions?state=bogus`, { headers: bearer(ADMIN_SECRET) })).json.code).toBe('invalid_request');
    expect((await postJson(`${t.control}/v1/sessions/ses_missing/revoke`, {}, bearer(ADMIN_SECRET))).json.code).toBe('session_not_found');
  });

  it('serves the session view to its own token and to an admin, but not to another session', async () => {
    const a = (await create()).json;
    const b = (await create()).json;
    expect((await call(`${t.control}/v1/sessions/${a.session_id}`, { headers: bearer(a.token) })).json.session_id).toBe(a.session_id);
    expect((await call(`${t.control}/v1/sessions/${a.session_id}`, { headers: bearer(b.token) })).status).toBe(403);
    expect((await call(`${t.control}/v1/sessions/${a.session_id}`)).json.code).toBe('token_missing');
  });

  it('publishes the public signing keys without private parts', async () => {
    const jwks = await call(`${t.control}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(jwks.json.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(jwks.json.keys[0].d).toBeUndefined();
  });

  it('keeps the last good policy when a reload fails, audits it and shows it on /v1/policy', async () => {
    const before = (await call(`${t.control}/v1/policy`, { headers: bearer(ADMIN_SECRET) })).json;
    t.writePolicy(`${defaultPolicy()}  - id: broken\n    effect: allow\n    colour: red\n`);
    try {
      expect(await t.gw.reloadPolicy()).toBe(false);
      const after = (await call(`${t.control}/v1/policy`, { headers: bearer(ADMIN_SECRET) })).json;
      expect(after.revision).toBe(before.revision);
      expect(after.last_error.message).toContain('colour');
      expect((await create()).status).toBe(201);
      expect(t.auditRecords().some((r) => r.api?.operation === 'policy.reload_failed')).toBe(true);
    } finally {
      t.writePolicy(defaultPolicy());
      expect(await t.gw.reloadPolicy()).toBe(true);
    }
  });

  it('serves /livez and /readyz (and /healthz) on both listeners', async () => {
    for (const base of [t.control, t.data]) {
      expect((await call(`${base}/livez`)).status).toBe(200);
      expect((await call(`${base}/readyz`)).status).toBe(200);
      expect((await call(`${base}/healthz`)).status).toBe(200);
    }
  });

  it('audits control actions with the actor and never a secret or token', async () => {
    const s = (await create()).json;
    await resume(s.session_id);
    const records = t.auditRecords();
    const created = records.find((r) => r.api?.operation === 'session.create' && r.actor?.session?.uid === s.session_id);
    expect(created).toMatchObject({ class_uid: 6003, status_code: 'ok', actor: { user: { uid: 'billing-bot', type: 'agent' } } });
    expect(records.some((r) => r.api?.operation === 'session.resume' && r.actor?.session?.uid === s.session_id)).toBe(true);
    const text = JSON.stringify(records);
    for (const secret of [AGENT_SECRET, ADMIN_SECRET, APPROVER_SECRET, s.token]) expect(text).not.toContain(secret);
  });
});

describe('control plane on an injected clock (SPEC §5 leases)', () => {
  const LEASE_TTL_MS = 5 * 60_000; // the default lease_ttl: the test policy sets none
  let upstream: TestUpstream;
  let t: TestGateway;
  const clock = new ManualClock(Date.parse('2026-11-24T12:00:00.000Z'));

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestGateway({ upstreamUrl: upstream.url, clock });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('renews the lease on heartbeat to exactly now + lease_ttl, and stores it (GET shows it, the sweep keeps the session)', async () => {
    const s = (await postJson(`${t.control}/v1/sessions`, { ...CRED, task_id: 'heartbeat' })).json;
    expect(s.lease_expires_at).toBe('2026-11-24T12:05:00.000Z');
    clock.advance(4 * 60_000);
    const res = await postJson(`${t.control}/v1/sessions/${s.session_id}/heartbeat`, {}, bearer(s.token));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ lease_expires_at: '2026-11-24T12:09:00.000Z' });
    const stored = await call(`${t.control}/v1/sessions/${s.session_id}`, { headers: bearer(s.token) });
    expect(stored.json.lease_expires_at).toBe('2026-11-24T12:09:00.000Z');
    // Past the lease given at creation, before the renewed one: the sweep must not suspend the session.
    clock.advance(LEASE_TTL_MS - 60_000);
    await t.gw.sweep();
    expect((await call(`${t.control}/v1/sessions/${s.session_id}`, { headers: bearer(s.token) })).json.state).toBe('active');
  });
});
