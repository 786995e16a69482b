// SPEC §10: replay suppression across resume, end to end through the in-process gateway (real SQLite file,
// real upstream on port 0). The Idempotency-Key header: ledger-idempotency-key.test.ts.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { bearer, call, postJson } from '../helpers/client.js';
import { expectValidAuditFile } from '../helpers/audit-schema.js';
import { ADMIN, uniqueAnswer, useLedgerGateway, waitFor } from '../helpers/ledger-gateway.js';
import type { TestGateway } from '../helpers/gateway.js';

describe('idempotency ledger (SPEC §10)', () => {
  const g = useLedgerGateway('ledger');
  const { open, resume, post, seenPaths } = g;

  it('replays A, B, A after a resume from the ledger, byte for byte, and forwards only C', async () => {
    const s = await open();
    const before = g.upstream.seen.length;
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
    const mid = g.upstream.seen.length;
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

    const audit = expectValidAuditFile(g.t.auditFile);
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
    const cp = await postJson(`${g.t.control}/v1/sessions/${s.id}/checkpoints`, { label: 'after' }, bearer(r1.json.token));
    expect(cp.status).toBe(201);
    const r2 = await resume(s.id);
    expect(r2.json.ledger).toMatchObject({ since_checkpoint_seq: 1, count: 0, recent: [] });
    const before = g.upstream.seen.length;
    const again = await post(r2.json.token, '/payments/fail', {});
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(seenPaths(before)).toEqual(['POST /api/payments/fail']);
  });

  it('never touches the ledger for a read-only call (GET, or side_effects: false)', async () => {
    const s = await open();
    await call(`${g.t.data}/tools/billing/invoices/1`, { headers: bearer(s.token) });
    await post(s.token, '/search', { q: 1 });
    const r = await resume(s.id);
    expect(r.json.ledger.count).toBe(0);
    const before = g.upstream.seen.length;
    await post(r.json.token, '/search', { q: 1 });
    expect(g.upstream.seen.length).toBe(before + 1);
    expect((await call(`${g.t.control}/v1/sessions/${s.id}/ledger`, { headers: bearer(r.json.token) })).json).toEqual({ entries: [] });
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
    const entries = (await call(`${g.t.control}/v1/sessions/${s.id}/ledger`, { headers: ADMIN })).json.entries;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ entry_id: again.json.entry_id, state: 'unknown', unknown_reason: 'body_too_large', status: 200, body_bytes: 1024 * 1024 + 1 });
    expect(JSON.stringify(entries)).not.toContain('aaaa');
  });

  it('lets a fenced worker racing a resume never reach the tool', async () => {
    // The stale worker is admitted (fence stage) and then held while its body trickles in; the resume lands
    // in that window. The ledger reservation re-checks the epoch atomically and refuses it.
    const reads = watchSessionReads(g.t.gw.store);
    for (let round = 0; round < 5; round++) {
      const s = await open();
      const before = g.upstream.seen.length;
      const racers = Array.from({ length: 10 }, (_, i) => slowPost(g.t.data, s.token, `/payments/race-${round}-${i}`));
      await waitFor(() => reads(s.id) >= racers.length);
      await resume(s.id);
      const results = await Promise.all(racers.map((r) => r.finish()));
      for (const res of results) {
        expect(res.status).toBe(401);
        expect(JSON.parse(res.body)).toMatchObject({ code: 'session_stale_epoch', resume_required: true });
      }
      expect(g.upstream.seen.length).toBe(before);
    }
  });


  it('lists the ledger to the session and admins only, and audits a resolution', async () => {
    const s = await open();
    await post(s.token, '/payments/listed', { a: 1 });
    const own = await call(`${g.t.control}/v1/sessions/${s.id}/ledger`, { headers: bearer(s.token) });
    expect(own.status).toBe(200);
    expect(own.json.entries).toHaveLength(1);
    expect(own.json.entries[0]).toMatchObject({ kind: 'replay', state: 'completed', method: 'POST', tool: 'billing', path: '/payments/listed', status: 201, occurrence: 1, epoch: 1 });
    const other = await open();
    expect((await call(`${g.t.control}/v1/sessions/${s.id}/ledger`, { headers: bearer(other.token) })).status).toBe(403);
    expect((await call(`${g.t.control}/v1/sessions/ses_nope_nope_nope_nope_nope/ledger`, { headers: ADMIN })).status).toBe(404);
    const entryId = own.json.entries[0].entry_id;
    // Only admins resolve, only unknown entries.
    const byAgent = await postJson(`${g.t.control}/v1/sessions/${s.id}/ledger/${entryId}/resolve`, { outcome: 'done' }, bearer(s.token));
    expect(byAgent.status).toBe(401);
    const notUnknown = await postJson(`${g.t.control}/v1/sessions/${s.id}/ledger/${entryId}/resolve`, { outcome: 'done' }, ADMIN);
    expect(notUnknown.status).toBe(400);
    const missing = await postJson(`${g.t.control}/v1/sessions/${s.id}/ledger/led_missing/resolve`, { outcome: 'done' }, ADMIN);
    expect(missing.status).toBe(404);
    const badBody = await postJson(`${g.t.control}/v1/sessions/${s.id}/ledger/${entryId}/resolve`, { outcome: 'maybe' }, ADMIN);
    expect(badBody.json.code).toBe('invalid_request');
  });

  it('marks a timed-out call unknown; an admin resolves it retry (forwarded once) or done (200, no call)', async () => {
    const s = await open();
    // The tool holds both calls until the gateway gave up on them (its tool timeout), then answers late.
    let release!: () => void;
    const late = new Promise<void>((resolve) => (release = resolve));
    g.upstream.handler = (req, res, body) => {
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
      g.upstream.handler = uniqueAnswer;
    }
    const r = await resume(s.id);
    const token = r.json.token;
    const blocked = await post(token, '/payments/slow-1', {});
    expect(blocked.status).toBe(409);
    expect(blocked.json).toMatchObject({ code: 'outcome_unknown', entry_id: expect.stringMatching(/^led_/) });
    const resolveRetry = await postJson(`${g.t.control}/v1/sessions/${s.id}/ledger/${blocked.json.entry_id}/resolve`, { outcome: 'retry' }, ADMIN);
    expect(resolveRetry.status).toBe(200);
    expect(resolveRetry.json).toMatchObject({ entry_id: blocked.json.entry_id, state: 'retry', resolved_by: 'sec-admin' });
    const before = g.upstream.seen.length;
    const retried = await post(token, '/payments/slow-1', {});
    expect(retried.status).toBe(201);
    expect(g.upstream.seen.length).toBe(before + 1);

    const blocked2 = await post(token, '/payments/slow-2', {});
    const done = await postJson(`${g.t.control}/v1/sessions/${s.id}/ledger/${blocked2.json.entry_id}/resolve`, { outcome: 'done' }, ADMIN);
    expect(done.json.state).toBe('done');
    const asDone = await post(token, '/payments/slow-2', {});
    expect(asDone.status).toBe(200);
    expect(asDone.headers['idempotent-replayed']).toBe('true');
    expect(asDone.json).toEqual({ replayed: true, resolution: 'done', entry_id: blocked2.json.entry_id });
    expect(g.upstream.seen.length).toBe(before + 1);

    // The retried call is now recorded: another resume replays it instead of calling the tool again.
    const r2 = await resume(s.id);
    const replayed = await post(r2.json.token, '/payments/slow-1', {});
    expect(replayed).toMatchObject({ status: 201, text: retried.text });
    expect(g.upstream.seen.length).toBe(before + 1);

    const audit = expectValidAuditFile(g.t.auditFile);
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
    const { release, restore } = g.holdAnswers();
    try {
      const before = g.upstream.seen.length;
      const req = http.request(`${g.t.data}/tools/billing/payments/abandoned`, { method: 'POST', headers: { ...bearer(s.token), 'content-type': 'application/json' } });
      req.on('error', () => {});
      req.end('{}');
      await waitFor(() => g.upstream.seen.length > before);
      req.destroy();
      release();
      await waitFor(async () => (await call(`${g.t.control}/v1/sessions/${s.id}/ledger`, { headers: ADMIN })).json.entries[0]?.state === 'completed');
    } finally {
      restore();
    }
    const r = await resume(s.id);
    const replay = await post(r.json.token, '/payments/abandoned', {});
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });
});

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
