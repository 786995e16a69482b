// Several replicas on one PostgreSQL database behave as one gateway (SPEC §17, issue 13): two built CLIs
// (`node dist/main.js serve`, npm run build first) on a database of their own, driven over real HTTP.
// Fencing, resumes, approvals, streams, the ledger and assertion ids hold across replicas; a replica killed
// with -9 leaves its in-flight call unknown only once its heartbeat is stale, and the other keeps serving.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway, type SpawnedGateway } from '../../src/demo/spawn-gateway.js';
import { ADMIN_SECRET, APPROVER_SECRET } from '../helpers/gateway.js';
import { bearer, call, postJson, type Reply } from '../helpers/client.js';
import { jwtAgent, type JwtAgent } from '../helpers/jwt-agent.js';
import { endedWithin, openStream, startStreamingUpstream, until, type StreamingUpstream } from '../helpers/live.js';
import { admin, freshDatabase, type FreshDatabase } from '../helpers/pg-database.js';
import { pgRunUrl } from '../helpers/postgres.js';

/** Heartbeats come every third of it. Long enough that a replica stalled by a loaded two-core machine (the
 *  whole suite runs beside it) is not taken for gone mid-test — which would, correctly, turn its in-flight
 *  calls `unknown` and fail the race tests; 3 s was seen to be too short there. */
const REPLICA_TIMEOUT_MS = 8000;
const RULES = `  - id: side-effects
    effect: allow
    roles: [billing-agent]
    tools: [billing]
    methods: [POST]
    paths: ["/transfers", "/transfers-held", "/payments"]
    side_effects: true
  - id: wires-need-approval
    effect: require_approval
    roles: [billing-agent]
    tools: [billing]
    methods: [POST]
    paths: ["/wires"]
    approval: { approvers: [finance-approver], ttl: 1h, hold: 20s }
`;

function replicaConfig(dbUrl: string, upstreamUrl: string, name: string): string {
  return `listen:
  data: "127.0.0.1:0"
  control: "127.0.0.1:0"
tokens:
  keys: keys.json
store:
  kind: postgres
  url: "${dbUrl}"
  pool_size: 4
  replica_timeout_ms: ${REPLICA_TIMEOUT_MS}
policies: policies
audit:
  path: audit-${name}.log
log:
  level: info
tools:
  billing:
    upstream: "${upstreamUrl}/api"
    timeout_ms: 20000
  crm:
    upstream: "${upstreamUrl}/mcp"
    protocol: mcp
`;
}

/** The replica id a spawned gateway announced in its listening line. */
function replicaIdOf(gateway: SpawnedGateway): string {
  for (const line of gateway.logLines) {
    const found = /"msg":"listening"/.test(line) ? (JSON.parse(line) as { replica_id?: string }).replica_id : undefined;
    if (found) return found;
  }
  throw new Error('no replica_id in the listening line');
}

describe('e2e: two replicas on one PostgreSQL database', () => {
  let db: FreshDatabase;
  let upstream: StreamingUpstream;
  let dir: string;
  let agent: JwtAgent;
  let a: SpawnedGateway;
  let b: SpawnedGateway;
  const spawned: SpawnedGateway[] = [];
  const heldTransfers: ServerResponse[] = [];
  const heldPayments: ServerResponse[] = [];
  let jti = 0;

  beforeAll(async () => {
    db = await freshDatabase(pgRunUrl(), 'replicas');
    upstream = await startStreamingUpstream();
    const base = upstream.handler;
    upstream.handler = (req, res, body) => {
      // Calls the tool holds until the test lets them go (a call in flight on one replica).
      if (req.url === '/api/transfers-held') heldTransfers.push(res);
      else if (req.url === '/api/payments') heldPayments.push(res);
      else base(req, res, body);
    };
    dir = mkdtempSync(join(tmpdir(), 'epochgate-replicas-'));
    agent = await jwtAgent(dir);
    mkdirSync(join(dir, 'policies'));
    writeFileSync(join(dir, 'policies', 'main.yaml'), agent.policy + RULES);
    for (const name of ['a', 'b', 'c']) writeFileSync(join(dir, `${name}.yaml`), replicaConfig(db.url, upstream.url, name));
    // One after the other: the first creates the shared key set (keys.json), the second reads it.
    a = await start('a');
    b = await start('b');
  }, 90_000);

  afterAll(async () => {
    for (const res of [...heldTransfers, ...heldPayments]) res.end('{}');
    await Promise.all(spawned.map((g) => g.stop('SIGKILL')));
    await upstream?.close();
    await db?.drop();
  });

  async function start(name: string): Promise<SpawnedGateway> {
    const gateway = await spawnGateway(join(dir, `${name}.yaml`), [], 30_000);
    spawned.push(gateway);
    return gateway;
  }

  const credential = async () => ({ agent_id: 'billing-bot', client_assertion: await agent.assertion(`jti-replicas-${++jti}`) });
  const createSession = async (via: SpawnedGateway, task: string) => {
    const created = await postJson(`${via.controlUrl}/v1/sessions`, { ...(await credential()), task_id: task });
    expect(created.status).toBe(201);
    return created.json as { session_id: string; token: string; epoch: number };
  };
  const resume = async (via: SpawnedGateway, sessionId: string, expectedEpoch?: number): Promise<Reply> =>
    postJson(`${via.controlUrl}/v1/sessions/${sessionId}/resume`, { ...(await credential()), ...(expectedEpoch ? { expected_epoch: expectedEpoch } : {}) });
  const post = (via: SpawnedGateway, path: string, token: string, body: string, headers: Record<string, string> = {}) =>
    call(`${via.dataUrl}/tools/billing${path}`, { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json', ...headers }, body });
  const ledger = async (via: SpawnedGateway, sessionId: string) =>
    (await call(`${via.controlUrl}/v1/sessions/${sessionId}/ledger`, { headers: bearer(ADMIN_SECRET) })).json.entries as Record<string, unknown>[];

  it('serves a session created on A through B at once, and A sees the checkpoint written through B', async () => {
    const s = await createSession(a, 'seen-everywhere');
    const viaB = await call(`${b.dataUrl}/tools/billing/invoices/7`, { headers: bearer(s.token) });
    expect(viaB.status).toBe(200);
    expect(viaB.json).toMatchObject({ method: 'GET', url: '/api/invoices/7' });
    const checkpoint = await postJson(`${b.controlUrl}/v1/sessions/${s.session_id}/checkpoints`, { label: 'step-1', state: { n: 1 } }, bearer(s.token));
    expect(checkpoint.status).toBe(201);
    const resumed = await resume(a, s.session_id, 1);
    expect(resumed.status).toBe(200);
    expect(resumed.json.checkpoint).toMatchObject({ seq: 1, label: 'step-1', state: { n: 1 } });
  });

  it('refuses on A, with 401 session_stale_epoch, the old token of a session resumed on B', async () => {
    const s = await createSession(a, 'resume-elsewhere');
    expect((await call(`${a.dataUrl}/tools/billing/invoices/1`, { headers: bearer(s.token) })).status).toBe(200);
    const resumed = await resume(b, s.session_id, 1);
    expect(resumed.json.epoch).toBe(2);
    const stale = await call(`${a.dataUrl}/tools/billing/invoices/1`, { headers: bearer(s.token) });
    expect(stale.status).toBe(401);
    expect(stale.json).toMatchObject({ code: 'session_stale_epoch', resume_required: true, current_epoch: 2 });
    expect((await call(`${a.dataUrl}/tools/billing/invoices/1`, { headers: bearer(resumed.json.token) })).status).toBe(200);
  });

  it('lets exactly one of two resumes with the same expected_epoch on A and B win (the other: 409 epoch_conflict)', async () => {
    for (let round = 0; round < 5; round++) {
      const s = await createSession(round % 2 === 0 ? a : b, `resume-race-${round}`);
      const answers = await Promise.all([resume(a, s.session_id, 1), resume(b, s.session_id, 1)]);
      expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(answers.find((r) => r.status === 409)!.json.code).toBe('epoch_conflict');
      expect(answers.find((r) => r.status === 200)!.json.epoch).toBe(2);
    }
  });

  it('refuses on B, with 401 assertion_replayed, a client assertion already used on A', async () => {
    const assertion = await agent.assertion('jti-single-use-across-replicas');
    const first = await postJson(`${a.controlUrl}/v1/sessions`, { agent_id: 'billing-bot', client_assertion: assertion, task_id: 'jti-1' });
    expect(first.status).toBe(201);
    const again = await postJson(`${b.controlUrl}/v1/sessions`, { agent_id: 'billing-bot', client_assertion: assertion, task_id: 'jti-2' });
    expect(again.status).toBe(401);
    expect(again.json.code).toBe('assertion_replayed');
  });

  it('releases a call held for approval on B within 1 s of its approval through A, and forwards it once', async () => {
    const s = await createSession(a, 'approve-elsewhere');
    const held = post(b, '/wires', s.token, '{"amount":5}');
    let approvalId = '';
    await until(async () => {
      const listed = await call(`${a.controlUrl}/v1/approvals?state=pending&session_id=${s.session_id}`, { headers: bearer(APPROVER_SECRET) });
      approvalId = (listed.json.approvals?.[0]?.approval_id as string | undefined) ?? '';
      return approvalId !== '';
    }, 10_000, 'the pending approval');
    const approved = await postJson(`${a.controlUrl}/v1/approvals/${approvalId}/approve`, {}, bearer(APPROVER_SECRET));
    expect(approved.status).toBe(200);
    const approvedAt = Date.now();
    const answer = await held;
    expect(Date.now() - approvedAt).toBeLessThan(1000);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ method: 'POST', url: '/api/wires' });
    expect(upstream.seen.filter((r) => r.url === '/api/wires')).toHaveLength(1);
  });

  it('ends an open stream on B within 1 s of a revoke through A', async () => {
    const s = await createSession(a, 'revoke-elsewhere');
    const stream = await openStream(`${b.dataUrl}/tools/billing/stream`, bearer(s.token));
    expect(stream.status).toBe(200);
    await until(() => stream.events.length > 0, 5000, 'a first event');
    const revoked = await postJson(`${a.controlUrl}/v1/sessions/${s.session_id}/revoke`, { reason: 'test' }, bearer(ADMIN_SECRET));
    expect(revoked.status).toBe(200);
    const revokedAt = Date.now();
    const endedAt = await endedWithin(stream, 1000);
    expect(endedAt - revokedAt).toBeLessThan(1000);
    const after = await call(`${b.dataUrl}/tools/billing/invoices/1`, { headers: bearer(s.token) });
    expect(after.json.code).toBe('session_revoked');
  });

  it('forwards a call raced on A and B with one Idempotency-Key once; the other gets 409 idempotency_in_progress', async () => {
    const s = await createSession(a, 'key-race');
    const key = { 'idempotency-key': 'pay-once-across-replicas' };
    const racing = [post(a, '/payments', s.token, '{"amount":1}', key), post(b, '/payments', s.token, '{"amount":1}', key)];
    const first = await Promise.race(racing);
    expect(first.status).toBe(409);
    expect(first.json.code).toBe('idempotency_in_progress');
    expect(heldPayments).toHaveLength(1);
    heldPayments.splice(0).forEach((res) => res.end('{"paid":true}'));
    const answers = await Promise.all(racing);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    const replay = await post(b, '/payments', s.token, '{"amount":1}', key);
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json).toEqual({ paid: true });
    expect(upstream.seen.filter((r) => r.url === '/api/payments')).toHaveLength(1);
  });

  it('counts an occurrence once across replicas: after a resume, the same call on A and B at once is replayed exactly once', async () => {
    const s = await createSession(a, 'occurrence-race');
    expect((await post(a, '/transfers', s.token, '{"to":"x","amount":3}')).status).toBe(200);
    const resumed = await resume(b, s.session_id, 1);
    const answers = await Promise.all([a, b].map((via) => post(via, '/transfers', resumed.json.token, '{"to":"x","amount":3}')));
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    // One of them is the epoch's first occurrence (answered from the ledger), the other its second (forwarded).
    expect(answers.map((r) => r.headers['idempotent-replayed'] ?? 'forwarded').sort()).toEqual(['forwarded', 'true']);
    expect(upstream.seen.filter((r) => r.url === '/api/transfers')).toHaveLength(2);
  });

  it('after kill -9 of A, B marks A\'s in-flight call unknown only once A\'s heartbeat is stale, and keeps serving', async () => {
    const s = await createSession(a, 'replica-dies');
    const inFlight = post(a, '/transfers-held', s.token, '{"amount":8}').catch((err: unknown) => err);
    await until(() => heldTransfers.length === 1, 10_000, 'the call at the tool');
    const entryState = async () => (await ledger(b, s.session_id)).map((e) => e.state);
    expect(await entryState()).toEqual(['in_flight']);

    // Another replica starting (its start-up recovery runs) never marks a live replica's call unknown.
    const c = await start('c');
    expect(await entryState()).toEqual(['in_flight']);
    expect(await c.stop('SIGTERM')).toBe(0);

    expect(await a.stop('SIGKILL')).toBeNull();
    const killedAt = Date.now();
    expect(await inFlight).toBeInstanceOf(Error);
    expect(await entryState()).toEqual(['in_flight']);
    // B is unaffected: it serves the session's calls meanwhile.
    expect((await call(`${b.dataUrl}/tools/billing/invoices/2`, { headers: bearer(s.token) })).status).toBe(200);
    await until(async () => (await entryState())[0] === 'unknown', REPLICA_TIMEOUT_MS + 10_000, 'the entry unknown');
    expect(Date.now() - killedAt).toBeLessThan(REPLICA_TIMEOUT_MS + 10_000);
    const [entry] = await ledger(b, s.session_id);
    // Only once A's last heartbeat was older than the timeout: A was marked stopped then, and the entry after.
    const replicaA = replicaIdOf(a);
    const [row] = (await admin(db.url, 'SELECT heartbeat_at::float8 AS beat, stopped_at::float8 AS stopped FROM replicas WHERE replica_id = $1', [replicaA])).rows;
    expect(row.stopped - row.beat).toBeGreaterThanOrEqual(REPLICA_TIMEOUT_MS);
    expect(Date.parse(entry!.updated_at as string) - row.beat).toBeGreaterThanOrEqual(REPLICA_TIMEOUT_MS);
    expect(entry).toMatchObject({ state: 'unknown', unknown_reason: 'gateway_restart', path: '/transfers-held' });
    const audit = readFileSync(join(dir, 'audit-b.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    const unknown = audit.filter((r) => r.api?.operation === 'ledger.unknown');
    expect(unknown).toHaveLength(1);
    expect(unknown[0].unmapped.epochgate).toMatchObject({ reason: 'gateway_restart', entry_id: entry!.entry_id });
    // The resumed worker repeating the call is stopped by the unknown entry: the tool is not called again.
    const resumed = await resume(b, s.session_id, 1);
    const repeated = await post(b, '/transfers-held', resumed.json.token, '{"amount":8}');
    expect(repeated.status).toBe(409);
    expect(repeated.json.code).toBe('outcome_unknown');
    expect(upstream.seen.filter((r) => r.url === '/api/transfers-held')).toHaveLength(1);
  }, 90_000);
});
