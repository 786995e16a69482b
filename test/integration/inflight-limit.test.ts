// SPEC §8: one session holds at most limits.max_inflight_per_session calls at once — plain calls, calls held
// for approval and open streams alike — and the next one gets 429 too_many_requests with Retry-After. Every
// way a call ends (answered, client abort, upstream failure, stream end, fenced) frees its slot exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { approvalPolicy, openSession, pendingApprovalOf, refund, type Session } from '../helpers/approvals.js';
import { bearer, call } from '../helpers/client.js';
import type { TestGateway } from '../helpers/gateway.js';
import { fence } from '../helpers/fence-actions.js';
import { openStream, startLiveGateway, startStreamingUpstream, until, type StreamingUpstream } from '../helpers/live.js';

const MAX = 2;
const IDLE_STREAM_RULE = `  - id: idle-stream
    effect: allow
    roles: [billing-agent]
    tools: [billing]
    methods: [GET]
    paths: ["/idle-stream"]
`;

describe('per-session in-flight limit (SPEC §8)', () => {
  let upstream: StreamingUpstream;
  let t: TestGateway;

  beforeAll(async () => {
    upstream = await startStreamingUpstream();
    t = await startLiveGateway({ upstreamUrl: upstream.url, policy: approvalPolicy() + IDLE_STREAM_RULE, maxInflight: MAX });
  });
  afterAll(async () => {
    upstream.releaseSlow();
    await t.close();
    await upstream.close();
  });

  const invoice = (s: Session) => call(`${t.data}/tools/billing/invoices/1`, { headers: bearer(s.token) });
  const slowSeen = (): number => upstream.seen.filter((r) => r.url.startsWith('/api/slow')).length;

  /** Exactly MAX slots are free: MAX streams open, the next call is refused, and all slots come back. */
  async function expectFreeSlots(s: Session): Promise<void> {
    await until(async () => (await invoice(s)).status === 200, 3000, 'a free slot');
    const streams = await Promise.all(Array.from({ length: MAX }, () => openStream(`${t.data}/tools/billing/idle-stream`, bearer(s.token))));
    expect(streams.map((x) => x.status)).toEqual(Array(MAX).fill(200));
    const refused = await invoice(s);
    expect(refused.status).toBe(429);
    for (const x of streams) x.close();
    await until(async () => (await invoice(s)).status === 200, 3000, 'slots freed by the closed streams');
  }

  it('refuses the call over the limit with 429 too_many_requests and Retry-After, without reaching the tool', async () => {
    const s = await openSession(t.control);
    const other = await openSession(t.control);
    const slow = [call(`${t.data}/tools/billing/slow`, { headers: bearer(s.token) }), call(`${t.data}/tools/billing/slow`, { headers: bearer(s.token) })];
    await until(() => slowSeen() >= 2, 3000, 'two calls at the tool');
    const seen = upstream.seen.length;
    const refused = await invoice(s);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json).toMatchObject({ code: 'too_many_requests', status: 429 });
    expect(upstream.seen.length).toBe(seen);
    expect((await invoice(other)).status).toBe(200); // another session of the same agent is not affected
    const audited = t.auditRecords().filter((r) => r.unmapped.epochgate.event === 'tool.call' && r.status_code === 'too_many_requests');
    expect(audited.length).toBeGreaterThan(0);
    upstream.releaseSlow();
    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200]);
    await expectFreeSlots(s);
  });

  it('frees the slot of a client that went away mid-stream, and aborts the upstream stream', async () => {
    const s = await openSession(t.control);
    const closedBefore = upstream.streams.closed;
    const streams = await Promise.all([0, 1].map(() => openStream(`${t.data}/tools/billing/stream`, bearer(s.token))));
    expect((await invoice(s)).status).toBe(429);
    for (const x of streams) x.close();
    await until(() => upstream.streams.closed >= closedBefore + 2, 3000, 'upstream streams closed');
    await expectFreeSlots(s);
  });

  it('keeps the slot of a client that went away before the answer until the tool answers (it still holds a tool connection)', async () => {
    const s = await openSession(t.control);
    const before = slowSeen();
    const aborts = [new AbortController(), new AbortController()];
    const slow = aborts.map((a) => request(`${t.data}/tools/billing/slow`, { headers: bearer(s.token), signal: a.signal }).catch(() => undefined));
    await until(() => slowSeen() >= before + 2, 3000, 'two calls at the tool');
    for (const a of aborts) a.abort();
    await Promise.all(slow);
    expect((await invoice(s)).status).toBe(429);
    upstream.releaseSlow();
    await expectFreeSlots(s);
  });

  it('frees the slot of a call whose tool failed', async () => {
    const s = await openSession(t.control);
    for (let i = 0; i < MAX + 1; i++) expect((await call(`${t.data}/tools/billing/echo/reset`, { headers: bearer(s.token) })).status).toBe(502);
    await expectFreeSlots(s);
  });

  it('refuses an MCP message over the limit once it is parsed, without reaching the tool', async () => {
    const s = await openSession(t.control);
    const streams = await Promise.all([0, 1].map(() => openStream(`${t.data}/tools/crm`, bearer(s.token))));
    expect(streams.map((x) => x.status)).toEqual([200, 200]);
    const posts = (): number => upstream.seen.filter((r) => r.method === 'POST' && r.url.startsWith('/mcp')).length;
    const before = posts();
    const message = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'search_customers', arguments: { q: 'x' } } };
    const reply = await call(`${t.data}/tools/crm`, {
      method: 'POST',
      headers: { ...bearer(s.token), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(message),
    });
    // HTTP 429 today; in MCP form (SPEC §11) the problem rides in the JSON-RPC answer. Either way it says why.
    expect(reply.text).toContain('too_many_requests');
    expect(posts()).toBe(before);
    for (const x of streams) x.close();
    await expectFreeSlots(s);
  });

  it('counts calls held for approval and open streams, and frees them when they are fenced', async () => {
    const s = await openSession(t.control);
    const held = refund(t.data, s.token, '/held/one');
    await pendingApprovalOf(t.control, s.session_id);
    const stream = await openStream(`${t.data}/tools/billing/idle-stream`, bearer(s.token));
    expect(stream.status).toBe(200);
    expect((await invoice(s)).status).toBe(429);
    const resumed = await fence(t.control, 'resume', s.session_id, s.token);
    expect((await held).json.code).toBe('session_stale_epoch');
    await stream.ended;
    await expectFreeSlots({ ...s, token: resumed.json.token });
  });
});
