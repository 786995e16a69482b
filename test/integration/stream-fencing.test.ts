// SPEC §8 "Open streams are fenced too": an open response stream (SSE from a plain HTTP tool, an MCP tool's
// standalone GET stream) ends within 1 s of its session's epoch changing or the session being suspended,
// closed or revoked — by this process (immediate) or by another replica (periodic re-check of the store);
// an open stream keeps the lease alive; a shutdown does not wait for idle streams.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { defaultPolicy, type TestGateway } from '../helpers/gateway.js';
import { openSession, type Session } from '../helpers/approvals.js';
import { bearer, call } from '../helpers/client.js';
import { fence } from '../helpers/fence-actions.js';
import { endedWithin, openStream, startLiveGateway, startStreamingUpstream, until, type OpenStream, type StreamingUpstream } from '../helpers/live.js';

const EXTRA_RULES = `  - id: idle-stream
    effect: allow
    roles: [billing-agent]
    tools: [billing]
    methods: [GET]
    paths: ["/idle-stream"]
`;
const policy = (sessions = ''): string => defaultPolicy(EXTRA_RULES) + sessions;

/** Events received more than `graceMs` after `at` (bytes already on the wire may still arrive). */
const lateEvents = (stream: OpenStream, at: number, graceMs = 50): number => stream.events.filter((e) => e > at + graceMs).length;

async function liveStream(data: string, s: Session, path: string): Promise<OpenStream> {
  const stream = await openStream(`${data}${path}`, bearer(s.token));
  expect(stream.status).toBe(200);
  return stream;
}

describe('open streams are fenced (SPEC §8)', () => {
  let upstream: StreamingUpstream;
  let t: TestGateway;

  beforeAll(async () => {
    upstream = await startStreamingUpstream();
    // No periodic re-check here: what ends these streams is this process's own signal.
    t = await startLiveGateway({ upstreamUrl: upstream.url, policy: policy(), liveRecheckMs: 3_600_000 });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  const cases = [
    { name: 'an SSE stream of a plain HTTP tool', path: '/tools/billing/stream' },
    { name: 'an MCP tool’s standalone GET stream', path: '/tools/crm' },
  ];
  for (const { name, path } of cases) {
    for (const action of ['resume', 'revoke'] as const) {
      it(`ends ${name} within 1 s of a ${action}, and the upstream request too`, async () => {
        const s = await openSession(t.control);
        const stream = await liveStream(t.data, s, path);
        await until(() => stream.events.length >= 2, 3000, 'two events');
        const closedBefore = upstream.streams.closed;
        expect((await fence(t.control, action, s.session_id, s.token)).status).toBe(200);
        const answeredAt = Date.now();
        const endedAt = await endedWithin(stream, 1500);
        expect(endedAt - answeredAt).toBeLessThan(1000);
        expect(lateEvents(stream, answeredAt)).toBe(0);
        await until(() => upstream.streams.closed > closedBefore, 1500, 'upstream stream closed');
      });
    }
  }

  it('answers a call still waiting for the tool with the refusal within 1 s of a revoke, and aborts the upstream request', async () => {
    const s = await openSession(t.control);
    const abortedBefore = upstream.streams.slowAborted;
    const seenBefore = upstream.seen.filter((r) => r.url.startsWith('/api/slow')).length;
    const pending = call(`${t.data}/tools/billing/slow`, { headers: bearer(s.token) });
    await until(() => upstream.seen.filter((r) => r.url.startsWith('/api/slow')).length > seenBefore, 3000, 'the call at the tool');
    expect((await fence(t.control, 'revoke', s.session_id, s.token)).status).toBe(200);
    const answeredAt = Date.now();
    const reply = await pending;
    expect(Date.now() - answeredAt).toBeLessThan(1000);
    expect(reply.status).toBe(401);
    expect(reply.json.code).toBe('session_revoked');
    await until(() => upstream.streams.slowAborted > abortedBefore, 1500, 'upstream request aborted');
    const record = t.auditRecords().find((r) => r.metadata.correlation_uid === reply.headers['x-request-id']);
    expect(record?.unmapped.epochgate).toMatchObject({ event: 'tool.call', fenced: 'session_revoked' });
  });

  it('leaves the streams of other sessions and of the current epoch open', async () => {
    const a = await openSession(t.control);
    const b = await openSession(t.control);
    const old = await liveStream(t.data, a, '/tools/billing/stream');
    const other = await liveStream(t.data, b, '/tools/billing/stream');
    const resumed = await fence(t.control, 'resume', a.session_id, a.token);
    const fresh = await liveStream(t.data, { ...a, token: resumed.json.token }, '/tools/billing/stream');
    await endedWithin(old, 1500);
    const mark = Date.now();
    await until(() => lateEvents(fresh, mark, 0) >= 3 && lateEvents(other, mark, 0) >= 3, 3000, 'events on the live streams');
    expect(fresh.isEnded() || other.isEnded()).toBe(false);
    fresh.close();
    other.close();
  });
});

describe('open streams fenced by another replica (SPEC §8, §17)', () => {
  let upstream: StreamingUpstream;
  let t: TestGateway;

  beforeAll(async () => {
    upstream = await startStreamingUpstream();
    t = await startLiveGateway({ upstreamUrl: upstream.url, policy: policy() });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('ends a stream within 1.5 s of a resume made by another replica (store only: the periodic re-check)', async () => {
    const s = await openSession(t.control);
    const stream = await liveStream(t.data, s, '/tools/billing/stream');
    const now = Date.now();
    const resumed = await t.gw.store.sessions.resume(s.session_id, { expectedEpoch: 1, scope: ['billing', 'crm'], now, leaseExpiresAt: now + 60_000, maxResumes: 100 });
    expect(resumed.ok).toBe(true);
    const changedAt = Date.now();
    const endedAt = await endedWithin(stream, 2000);
    expect(endedAt - changedAt).toBeLessThan(1500);
    expect(lateEvents(stream, changedAt, 1500)).toBe(0);
  });

});

describe('open streams and the lease (SPEC §5, §8)', () => {
  let upstream: StreamingUpstream;
  let t: TestGateway;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    upstream = await startStreamingUpstream();
    t = await startLiveGateway({ upstreamUrl: upstream.url, policy: policy('sessions:\n  lease_ttl: 10s\n'), clock, liveRecheckMs: 50 });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  const lease = async (id: string): Promise<number> => (await t.gw.store.sessions.get(id))!.leaseExpiresAt;

  it('keeps the lease of a session with an open stream alive past lease_ttl; a session without one is suspended', async () => {
    const streaming = await openSession(t.control);
    const idle = await openSession(t.control);
    const stream = await liveStream(t.data, streaming, '/tools/billing/idle-stream');
    for (let step = 0; step < 3; step++) {
      const before = await lease(streaming.session_id);
      clock.advance(6_000); // past half the lease: the next re-check renews it
      await until(async () => (await lease(streaming.session_id)) > before, 2000, 'lease renewed by the open stream');
    }
    // 18 s > lease_ttl (10 s) since either session's last call.
    expect(await t.gw.sweep()).toBe(1);
    expect((await t.gw.store.sessions.get(streaming.session_id))!.state).toBe('active');
    expect((await t.gw.store.sessions.get(idle.session_id))).toMatchObject({ state: 'suspended', stateReason: 'lease_expired' });
    expect(stream.isEnded()).toBe(false);
    stream.close();
  });

  for (const path of ['/tools/billing/stream', '/tools/crm']) {
    it(`ends ${path === '/tools/crm' ? 'an MCP GET stream' : 'an SSE stream'} within 1 s of its session’s lease expiring`, async () => {
      const s = await openSession(t.control);
      const stream = await liveStream(t.data, s, path);
      await until(() => stream.events.length >= 1, 3000, 'an event');
      // Jump past the whole lease at once: the session is suspended before any renewal could happen.
      clock.advance(11_000);
      await t.gw.sweep();
      const sweptAt = Date.now();
      const endedAt = await endedWithin(stream, 1500);
      expect(endedAt - sweptAt).toBeLessThan(1000);
      expect(lateEvents(stream, sweptAt)).toBe(0);
      expect(await t.gw.store.sessions.get(s.session_id)).toMatchObject({ state: 'suspended', stateReason: 'lease_expired' });
      const after = await call(`${t.data}/tools/billing/invoices/1`, { headers: bearer(s.token) });
      expect(after.json).toMatchObject({ code: 'session_suspended', resume_required: true });
    });
  }
});

describe('shutdown with open streams (SPEC §8, §14)', () => {
  it('drains in well under 3 s with idle SSE and MCP GET streams open, ending them', async () => {
    const upstream = await startStreamingUpstream();
    const t = await startLiveGateway({ upstreamUrl: upstream.url, policy: policy() });
    try {
      const s = await openSession(t.control);
      const streams = [await liveStream(t.data, s, '/tools/billing/idle-stream'), await liveStream(t.data, s, '/tools/crm?idle=1')];
      const started = Date.now();
      await t.gw.close(10_000);
      expect(Date.now() - started).toBeLessThan(3000);
      for (const stream of streams) await endedWithin(stream, 1000);
      // Both streams were settled and audited before the gateway said it stopped.
      const events = t.auditRecords().map((r) => r.unmapped.epochgate);
      const stop = events.findIndex((e) => e.event === 'gateway.stop');
      const streamCalls = events.flatMap((e, i) => (e.event === 'tool.call' && e.fenced === 'shutdown' ? [i] : []));
      expect(streamCalls).toHaveLength(2);
      expect(Math.max(...streamCalls)).toBeLessThan(stop);
    } finally {
      await t.gw.close(0);
      await upstream.close();
    }
  });
});
