// SPEC §10: replay suppression across resume and the Idempotency-Key header, end to end through the
// in-process gateway (real SQLite file, real upstream on port 0).
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_SECRET, AGENT_SECRET, defaultPolicy, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream, type UpstreamHandler } from '../helpers/upstream.js';
import { bearer, call, postJson, type Reply } from '../helpers/client.js';
import { expectValidAuditFile } from '../helpers/audit-schema.js';
import { rawRequest } from '../helpers/forge.js';

const CRED = { agent_id: 'billing-bot', client_secret: AGENT_SECRET };
const ADMIN = bearer(ADMIN_SECRET);

const EXTRA_RULES = `  - id: payments
    effect: allow
    roles: [billing-agent]
    tools: [billing]
    paths: ["/payments/**", "/big"]
  - id: transfers-need-key
    effect: allow
    roles: [billing-agent]
    tools: [billing]
    methods: [POST]
    paths: ["/transfers"]
    idempotency: required
  - id: search-is-read-only
    effect: allow
    roles: [billing-agent]
    tools: [billing]
    methods: [POST]
    paths: ["/search"]
    side_effects: false
`;

/** Every answer is unique (a counter and a random part), so a replay cannot be mistaken for a new call. */
const uniqueAnswer: UpstreamHandler = (req, res, body) => {
  const n = Math.random().toString(36).slice(2);
  if (req.url === '/api/big') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(Buffer.alloc(1024 * 1024 + 1, 97));
    return;
  }
  res.writeHead(req.url?.includes('fail') ? 500 : 201, { 'content-type': 'application/json', 'x-answer': n, 'x-request-id': 'tool-own-id' });
  res.end(JSON.stringify({ url: req.url, body, n }));
};

describe('idempotency ledger (SPEC §10)', () => {
  let upstream: TestUpstream;
  let t: TestGateway;
  let n = 0;

  beforeAll(async () => {
    upstream = await startUpstream(uniqueAnswer);
    t = await startTestGateway({ upstreamUrl: upstream.url, policy: defaultPolicy(EXTRA_RULES), toolTimeoutMs: 1500 });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  const open = async (): Promise<{ id: string; token: string }> => {
    const res = await postJson(`${t.control}/v1/sessions`, { ...CRED, task_id: `ledger-${++n}` });
    expect(res.status).toBe(201);
    return { id: res.json.session_id, token: res.json.token };
  };
  const resume = async (id: string): Promise<Reply> => {
    const res = await postJson(`${t.control}/v1/sessions/${id}/resume`, CRED);
    expect(res.status).toBe(200);
    return res;
  };
  const post = (token: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
    postJson(`${t.data}/tools/billing${path}`, body, { ...bearer(token), ...headers });
  const seenPaths = (from: number) => upstream.seen.slice(from).map((s) => `${s.method} ${s.url}`);

  it('replays A, B, A after a resume from the ledger, byte for byte, and forwards only C', async () => {
    const s = await open();
    const before = upstream.seen.length;
    const originals = [
      await post(s.token, '/payments/a', { amount: 1 }),
      await post(s.token, '/payments/b', { amount: 2 }),
      await post(s.token, '/payments/a', { amount: 1 }),
    ];
    // Within one epoch nothing is suppressed: the second A is a legitimate repeat.
    expect(seenPaths(before)).toEqual(['POST /api/payments/a', 'POST /api/payments/b', 'POST /api/payments/a']);
    expect(originals.map((r) => r.headers['idempotent-replayed'])).toEqual([undefined, undefined, undefined]);
    expect(originals[0]!.text).not.toBe(originals[2]!.text);

    // The worker crashes; a new one resumes and replays its steps since the last checkpoint, then goes on.
    const resumed = await resume(s.id);
    expect(resumed.json.ledger).toMatchObject({ since_checkpoint_seq: null, count: 3 });
    expect(resumed.json.ledger.recent.map((e: { method: string; path: string; status: number; tool: string }) => `${e.method} ${e.tool}${e.path} ${e.status}`)).toEqual([
      'POST billing/payments/a 201',
      'POST billing/payments/b 201',
      'POST billing/payments/a 201',
    ]);
    const token2 = resumed.json.token;
    const mid = upstream.seen.length;
    const replays = [
      await post(token2, '/payments/a', { amount: 1 }),
      await post(token2, '/payments/b', { amount: 2 }),
      await post(token2, '/payments/a', { amount: 1 }),
    ];
    const c = await post(token2, '/payments/c', { amount: 3 });
    expect(seenPaths(mid)).toEqual(['POST /api/payments/c']);
    replays.forEach((replay, i) => {
      const original = originals[i]!;
      expect(replay.status).toBe(original.status);
      expect(replay.text).toBe(original.text);
      expect(replay.headers['x-answer']).toBe(original.headers['x-answer']);
      expect(replay.headers['content-type']).toBe(original.headers['content-type']);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.headers['x-request-id']).toMatch(/^req_/);
      expect(replay.headers['x-request-id']).not.toBe(original.headers['x-request-id']);
    });
    expect(c.headers['idempotent-replayed']).toBeUndefined();

    const audit = expectValidAuditFile(t.auditFile);
    const replayEvents = audit.filter((r) => r.api.operation === 'ledger.replay' && r.actor.session.uid === s.id);
    expect(replayEvents.map((r) => r.unmapped.epochgate.occurrence)).toEqual([1, 1, 2]);
    const requestIds = replays.map((r) => r.headers['x-request-id']);
    const calls = audit.filter((r) => r.api.operation === 'tool.call' && requestIds.includes(r.metadata.correlation_uid));
    expect(calls.map((r) => r.unmapped.epochgate.replayed)).toEqual([true, true, true]);
    expect(replayEvents.map((r) => r.unmapped.epochgate.entry_id)).toEqual(calls.map((r) => r.unmapped.epochgate.ledger_entry_id));
  });

  it('replays a recorded error status too, and stops suppressing once a checkpoint closes the window', async () => {
    const s = await open();
    const failed = await post(s.token, '/payments/fail', {});
    expect(failed.status).toBe(500);
    const r1 = await resume(s.id);
    const replayed = await post(r1.json.token, '/payments/fail', {});
    expect(replayed).toMatchObject({ status: 500, text: failed.text });
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    const cp = await postJson(`${t.control}/v1/sessions/${s.id}/checkpoints`, { label: 'after' }, bearer(r1.json.token));
    expect(cp.status).toBe(201);
    const r2 = await resume(s.id);
    expect(r2.json.ledger).toMatchObject({ since_checkpoint_seq: 1, count: 0, recent: [] });
    const before = upstream.seen.length;
    const again = await post(r2.json.token, '/payments/fail', {});
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(seenPaths(before)).toEqual(['POST /api/payments/fail']);
  });

  it('never touches the ledger for a read-only call (GET, or side_effects: false)', async () => {
    const s = await open();
    await call(`${t.data}/tools/billing/invoices/1`, { headers: bearer(s.token) });
    await post(s.token, '/search', { q: 1 });
    const r = await resume(s.id);
    expect(r.json.ledger.count).toBe(0);
    const before = upstream.seen.length;
    await post(r.json.token, '/search', { q: 1 });
    expect(upstream.seen.length).toBe(before + 1);
    expect((await call(`${t.control}/v1/sessions/${s.id}/ledger`, { headers: bearer(r.json.token) })).json).toEqual({ entries: [] });
  });

  it('records a body over 1 MiB as a digest only: a matching replay gets 409 outcome_unknown', async () => {
    const s = await open();
    const big = await post(s.token, '/big', {});
    expect(big.status).toBe(200);
    expect(big.text.length).toBe(1024 * 1024 + 1);
    const r = await resume(s.id);
    const again = await post(r.json.token, '/big', {});
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('outcome_unknown');
    const entries = (await call(`${t.control}/v1/sessions/${s.id}/ledger`, { headers: ADMIN })).json.entries;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ entry_id: again.json.entry_id, state: 'unknown', unknown_reason: 'body_too_large', status: 200, body_bytes: 1024 * 1024 + 1 });
    expect(JSON.stringify(entries)).not.toContain('aaaa');
  });

  it('lets a fenced worker racing a resume never reach the tool', async () => {
    // The stale worker is admitted (fence stage) and then held while its body trickles in; the resume lands
    // in that window. The ledger reservation re-checks the epoch atomically and refuses it.
    const reads = watchSessionReads(t.gw.store);
    for (let round = 0; round < 5; round++) {
      const s = await open();
      const before = upstream.seen.length;
      const racers = Array.from({ length: 10 }, (_, i) => slowPost(t.data, s.token, `/payments/race-${round}-${i}`));
      await waitFor(() => reads(s.id) >= racers.length);
      await resume(s.id);
      const results = await Promise.all(racers.map((r) => r.finish()));
      for (const res of results) {
        expect(res.status).toBe(401);
        expect(JSON.parse(res.body)).toMatchObject({ code: 'session_stale_epoch', resume_required: true });
      }
      expect(upstream.seen.length).toBe(before);
    }
  });

  describe('Idempotency-Key', () => {
    const keyed = (token: string, key: string, body: unknown = { amount: 5 }, path = '/payments/k') => post(token, path, body, { 'idempotency-key': key });

    it('forwards the first use, replays later ones across epochs, and refuses another request with 422', async () => {
      const s = await open();
      const before = upstream.seen.length;
      const first = await keyed(s.token, 'key-one');
      const second = await keyed(s.token, 'key-one');
      expect(second).toMatchObject({ status: first.status, text: first.text });
      expect(second.headers['idempotent-replayed']).toBe('true');
      const r = await resume(s.id);
      const third = await keyed(r.json.token, '"key-one"'); // the draft's sf-string form names the same key
      expect(third).toMatchObject({ status: first.status, text: first.text });
      expect(upstream.seen.length).toBe(before + 1);
      const reused = await keyed(r.json.token, 'key-one', { amount: 6 });
      expect(reused.status).toBe(422);
      expect(reused.json.code).toBe('idempotency_key_reused');
      // Keyed calls never enter the occurrence ledger.
      expect(r.json.ledger.count).toBe(0);
    });

    it('answers 409 idempotency_in_progress with Retry-After while the first is in flight (one forwarded)', async () => {
      const s = await open();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      upstream.handler = (req, res, body) => void held.then(() => uniqueAnswer(req, res, body));
      try {
        const before = upstream.seen.length;
        const first = keyed(s.token, 'concurrent-key');
        await waitFor(() => upstream.seen.length > before);
        const second = await keyed(s.token, 'concurrent-key');
        expect(second.status).toBe(409);
        expect(second.json.code).toBe('idempotency_in_progress');
        expect(second.headers['retry-after']).toBe('1');
        release();
        expect((await first).status).toBe(201);
        expect(upstream.seen.length).toBe(before + 1);
      } finally {
        upstream.handler = uniqueAnswer;
      }
    });

    it('has the outcome recorded before the answer ends: an immediate retry replays, never 409', async () => {
      const s = await open();
      for (let i = 0; i < 10; i++) {
        const first = await keyed(s.token, `instant-${i}`);
        const retry = await keyed(s.token, `instant-${i}`);
        expect(retry.status).toBe(first.status);
        expect(retry.headers['idempotent-replayed']).toBe('true');
      }
    });

    it('requires a key where the rule says so, and refuses malformed keys with bad_request', async () => {
      const s = await open();
      const missing = await post(s.token, '/transfers', {});
      expect(missing.status).toBe(400);
      expect(missing.json.code).toBe('idempotency_key_missing');
      expect((await post(s.token, '/transfers', {}, { 'idempotency-key': 't-1' })).status).toBe(201);
      for (const bad of ['x'.repeat(256), 'tab\there', 'caf\u00e9', '"unterminated\\"', '""']) {
        const res = await post(s.token, '/transfers', {}, { 'idempotency-key': bad });
        expect(res.status, bad).toBe(400);
        expect(res.json.code).toBe('bad_request');
      }
      expect((await post(s.token, '/transfers', {}, { 'idempotency-key': 'k'.repeat(255) })).status).toBe(201);
      const empty = await rawKeyed(t.data, s.token, '');
      expect(empty).toContain('400 Bad Request');
    });
  });

  it('lists the ledger to the session and admins only, and audits a resolution', async () => {
    const s = await open();
    await post(s.token, '/payments/listed', { a: 1 });
    const own = await call(`${t.control}/v1/sessions/${s.id}/ledger`, { headers: bearer(s.token) });
    expect(own.status).toBe(200);
    expect(own.json.entries).toHaveLength(1);
    expect(own.json.entries[0]).toMatchObject({ kind: 'replay', state: 'completed', method: 'POST', tool: 'billing', path: '/payments/listed', status: 201, occurrence: 1, epoch: 1 });
    const other = await open();
    expect((await call(`${t.control}/v1/sessions/${s.id}/ledger`, { headers: bearer(other.token) })).status).toBe(403);
    expect((await call(`${t.control}/v1/sessions/ses_nope_nope_nope_nope_nope/ledger`, { headers: ADMIN })).status).toBe(404);
    const entryId = own.json.entries[0].entry_id;
    // Only admins resolve, only unknown entries.
    const byAgent = await postJson(`${t.control}/v1/sessions/${s.id}/ledger/${entryId}/resolve`, { outcome: 'done' }, bearer(s.token));
    expect(byAgent.status).toBe(401);
    const notUnknown = await postJson(`${t.control}/v1/sessions/${s.id}/ledger/${entryId}/resolve`, { outcome: 'done' }, ADMIN);
    expect(notUnknown.status).toBe(400);
    const missing = await postJson(`${t.control}/v1/sessions/${s.id}/ledger/led_missing/resolve`, { outcome: 'done' }, ADMIN);
    expect(missing.status).toBe(404);
    const badBody = await postJson(`${t.control}/v1/sessions/${s.id}/ledger/${entryId}/resolve`, { outcome: 'maybe' }, ADMIN);
    expect(badBody.json.code).toBe('invalid_request');
  });

  it('marks a timed-out call unknown; an admin resolves it retry (forwarded once) or done (200, no call)', async () => {
    const s = await open();
    // The tool holds both calls until the gateway gave up on them (its tool timeout), then answers late.
    let release!: () => void;
    const late = new Promise<void>((resolve) => (release = resolve));
    upstream.handler = (req, res, body) => {
      if (req.url?.includes('slow')) void late.then(() => uniqueAnswer(req, res, body));
      else uniqueAnswer(req, res, body);
    };
    try {
      const [timedOut, timedOut2] = await Promise.all([post(s.token, '/payments/slow-1', {}), post(s.token, '/payments/slow-2', {})]);
      expect(timedOut.status).toBe(504);
      expect(timedOut.json.code).toBe('upstream_timeout');
      expect(timedOut2.status).toBe(504);
    } finally {
      release();
      upstream.handler = uniqueAnswer;
    }
    const r = await resume(s.id);
    const token = r.json.token;
    const blocked = await post(token, '/payments/slow-1', {});
    expect(blocked.status).toBe(409);
    expect(blocked.json).toMatchObject({ code: 'outcome_unknown', entry_id: expect.stringMatching(/^led_/) });
    const resolveRetry = await postJson(`${t.control}/v1/sessions/${s.id}/ledger/${blocked.json.entry_id}/resolve`, { outcome: 'retry' }, ADMIN);
    expect(resolveRetry.status).toBe(200);
    expect(resolveRetry.json).toMatchObject({ entry_id: blocked.json.entry_id, state: 'retry', resolved_by: 'sec-admin' });
    const before = upstream.seen.length;
    const retried = await post(token, '/payments/slow-1', {});
    expect(retried.status).toBe(201);
    expect(upstream.seen.length).toBe(before + 1);

    const blocked2 = await post(token, '/payments/slow-2', {});
    const done = await postJson(`${t.control}/v1/sessions/${s.id}/ledger/${blocked2.json.entry_id}/resolve`, { outcome: 'done' }, ADMIN);
    expect(done.json.state).toBe('done');
    const asDone = await post(token, '/payments/slow-2', {});
    expect(asDone.status).toBe(200);
    expect(asDone.headers['idempotent-replayed']).toBe('true');
    expect(asDone.json).toEqual({ replayed: true, resolution: 'done', entry_id: blocked2.json.entry_id });
    expect(upstream.seen.length).toBe(before + 1);

    // The retried call is now recorded: another resume replays it instead of calling the tool again.
    const r2 = await resume(s.id);
    const replayed = await post(r2.json.token, '/payments/slow-1', {});
    expect(replayed).toMatchObject({ status: 201, text: retried.text });
    expect(upstream.seen.length).toBe(before + 1);

    const audit = expectValidAuditFile(t.auditFile);
    const unknown = audit.filter((a) => a.api.operation === 'ledger.unknown' && a.actor.session.uid === s.id);
    expect(unknown.map((a) => a.unmapped.epochgate.reason)).toEqual(['upstream_timeout', 'upstream_timeout']);
    const resolves = audit.filter((a) => a.api.operation === 'ledger.resolve' && a.actor.session?.uid === s.id && a.status_code === 'ok');
    expect(resolves.map((a) => [a.actor.user.uid, a.unmapped.epochgate.outcome, a.unmapped.epochgate.previous_state])).toEqual([
      ['sec-admin', 'retry', 'unknown'],
      ['sec-admin', 'done', 'unknown'],
    ]);
  });

  it('still records the outcome when the agent goes away mid-call', async () => {
    const s = await open();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    upstream.handler = (req, res, body) => void held.then(() => uniqueAnswer(req, res, body));
    try {
      const before = upstream.seen.length;
      const req = http.request(`${t.data}/tools/billing/payments/abandoned`, { method: 'POST', headers: { ...bearer(s.token), 'content-type': 'application/json' } });
      req.on('error', () => {});
      req.end('{}');
      await waitFor(() => upstream.seen.length > before);
      req.destroy();
      release();
      await waitFor(async () => (await call(`${t.control}/v1/sessions/${s.id}/ledger`, { headers: ADMIN })).json.entries[0]?.state === 'completed');
    } finally {
      upstream.handler = uniqueAnswer;
    }
    const r = await resume(s.id);
    const replay = await post(r.json.token, '/payments/abandoned', {});
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A POST whose body is sent in two parts: the gateway admits it (fence stage), then waits for the rest. */
function slowPost(dataUrl: string, token: string, path: string) {
  const body = '{"amount":1}';
  const { hostname, port } = new URL(dataUrl);
  let resolveReply!: (r: { status: number; body: string }) => void;
  const reply = new Promise<{ status: number; body: string }>((resolve) => (resolveReply = resolve));
  const req = http.request({ host: hostname, port, method: 'POST', path: `/tools/billing${path}`, agent: false, headers: { ...bearer(token), 'content-type': 'application/json', 'content-length': String(body.length) } }, (res) => {
    let text = '';
    res.on('data', (c: Buffer) => (text += c.toString()));
    res.on('end', () => resolveReply({ status: res.statusCode ?? 0, body: text }));
  });
  req.write(body.slice(0, 3));
  return {
    finish: () => {
      req.end(body.slice(3));
      return reply;
    },
  };
}

/** Counts the fence stage's session reads per session id (the store object the gateway uses). */
function watchSessionReads(store: TestGateway['gw']['store']): (sessionId: string) => number {
  const reads = new Map<string, number>();
  const sessions = store.sessions;
  const original = sessions.get.bind(sessions);
  (sessions as { get: typeof sessions.get }).get = async (sessionId) => {
    const found = await original(sessionId);
    reads.set(sessionId, (reads.get(sessionId) ?? 0) + 1);
    return found;
  };
  return (sessionId) => reads.get(sessionId) ?? 0;
}

/** An empty Idempotency-Key header, which HTTP clients will not send. */
async function rawKeyed(dataUrl: string, token: string, key: string): Promise<string> {
  const text = `POST /tools/billing/transfers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nIdempotency-Key: ${key}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`;
  return (await rawRequest(dataUrl, text)).raw;
}
