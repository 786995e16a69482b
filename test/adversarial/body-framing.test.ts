// Hostile bodies on both planes (SPEC §8 "No request can stop the gateway"): every framing × early end ×
// over limit × plane. For every row: the exact answer (when the connection still carries one) and the
// audited code, nothing reached the tool, no secret in the audit stream or the operational log, and the
// process still serves a new session afterwards. The in-process gateway shares this process, so an error
// escaping the gateway would fail the run (vitest reports unhandled errors) before any assertion.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_SECRET, INJECTED_KEY } from '../helpers/gateway.js';
import { chunk, head, LAST_CHUNK, rawExchange, waitUntil, type Ending } from '../helpers/raw-http.js';
import { counter, expectStillServing, openSession, startHostileGateway, type HostileGateway, type OpenSession } from '../helpers/hostile-gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const DATA_LIMIT = 65_536;
const CONTROL_LIMIT = 1024 * 1024;

type Plane = 'data' | 'control-anon' | 'control-token';
type Framing = 'content-length' | 'chunked';
type Fault = 'early-end' | 'abort' | 'over-limit' | 'declared-over-limit' | 'bad-chunk';

interface Row {
  readonly plane: Plane;
  readonly framing: Framing;
  readonly fault: Fault;
}

const ROWS: Row[] = [];
for (const plane of ['data', 'control-anon', 'control-token'] as const) {
  for (const fault of ['early-end', 'abort', 'over-limit'] as const) {
    for (const framing of ['content-length', 'chunked'] as const) ROWS.push({ plane, framing, fault });
  }
  ROWS.push({ plane, framing: 'content-length', fault: 'declared-over-limit' });
  ROWS.push({ plane, framing: 'chunked', fault: 'bad-chunk' });
}

let upstream: TestUpstream;
let g: HostileGateway;
let s: OpenSession;

beforeAll(async () => {
  upstream = await startUpstream();
  g = await startHostileGateway({ upstreamUrl: upstream.url, maxBodyBytes: DATA_LIMIT });
  s = await openSession(g.control, 'framing');
});
afterAll(async () => {
  await g?.close();
  await upstream?.close();
});

function target(plane: Plane): { path: string; headers: [string, string][]; event: string; limit: number } {
  if (plane === 'data') return { path: '/tools/billing/echo/body', headers: [['Authorization', `Bearer ${s.token}`]], event: 'tool.call', limit: DATA_LIMIT };
  if (plane === 'control-anon') return { path: '/v1/sessions', headers: [], event: 'session.create', limit: CONTROL_LIMIT };
  return { path: `/v1/sessions/${s.sessionId}/checkpoints`, headers: [['Authorization', `Bearer ${s.token}`]], event: 'session.checkpoint', limit: CONTROL_LIMIT };
}

/** A body that starts like a real one, secret included, so a leak of the partial body would show. */
function bodyStart(plane: Plane): string {
  if (plane === 'control-anon') return `{"agent_id":"billing-bot","client_secret":"${AGENT_SECRET}","task_id":"t","metadata":{"x":"`;
  return '{"label":"x","state":{"x":"';
}

function parts(row: Row, limit: number): { parts: string[]; ending: Ending; length?: number } {
  const start = bodyStart(row.plane);
  const big = 'a'.repeat(64 * 1024);
  const overChunks = Math.ceil(limit / big.length) + 1;
  if (row.framing === 'content-length') {
    if (row.fault === 'declared-over-limit') return { parts: [], ending: 'keep', length: limit + 1 };
    if (row.fault === 'over-limit') return { parts: [start, ...Array<string>(overChunks).fill(big)], ending: 'keep', length: start.length + overChunks * big.length };
    return { parts: [start], ending: row.fault === 'abort' ? 'destroy' : 'half-close', length: start.length + 1000 };
  }
  if (row.fault === 'over-limit') return { parts: [chunk(start), ...Array<string>(overChunks).fill(chunk(big)), LAST_CHUNK], ending: 'keep' };
  if (row.fault === 'bad-chunk') return { parts: [chunk(start), 'zz\r\nnot a chunk\r\n'], ending: 'keep' };
  return { parts: [chunk(start)], ending: row.fault === 'abort' ? 'destroy' : 'half-close' };
}

const EXPECTED: Record<Fault, { code: string; status: number }> = {
  'early-end': { code: 'bad_request', status: 400 },
  abort: { code: 'bad_request', status: 400 },
  'bad-chunk': { code: 'bad_request', status: 400 },
  'over-limit': { code: 'payload_too_large', status: 413 },
  'declared-over-limit': { code: 'payload_too_large', status: 413 },
};

describe('hostile request bodies on both planes', () => {
  it.each(ROWS)('$plane, $framing, $fault: answers its catalogue code, audits it, and keeps serving', async (row) => {
    const t = target(row.plane);
    const plan = parts(row, t.limit);
    const framingHeader: [string, string] = plan.length !== undefined ? ['Content-Length', String(plan.length)] : ['Transfer-Encoding', 'chunked'];
    const seenBefore = upstream.seen.length;
    const recordsBefore = g.auditRecords().length;
    const reply = await rawExchange(row.plane === 'data' ? g.data : g.control, [head('POST', t.path, [...t.headers, ['Content-Type', 'application/json'], framingHeader]), ...plan.parts], {
      ending: plan.ending,
    });
    const expected = EXPECTED[row.fault];
    // The connection may be gone before an answer can be read (the client closed it, or the server reset
    // it while refusing the rest): then there is no status to check, but never a different one.
    if (reply.status !== undefined) expect(reply.status).toBe(expected.status);
    if (reply.json !== undefined) expect(reply.json.code).toBe(expected.code);
    if (row.fault === 'declared-over-limit') expect(reply.status).toBe(413);
    // Exactly the audited outcome: one record of the route's event with the catalogue code.
    await waitUntil(() => g.auditRecords().slice(recordsBefore).some((r) => r.api.operation === t.event), 5_000);
    const record = g.auditRecords().slice(recordsBefore).find((r) => r.api.operation === t.event)!;
    expect(record.status_code).toBe(expected.code);
    expect(record.http_response.code).toBe(expected.status);
    expect(upstream.seen.length).toBe(seenBefore);
    await expectStillServing(g, `after-${row.plane}-${row.framing}-${row.fault}`);
  });

  it('never counted a hostile body as an internal or store error, and no secret reached the audit stream or the log', async () => {
    expect(await counter(g.control, 'epochgate_internal_errors_total')).toBe(0);
    expect(await counter(g.control, 'epochgate_store_errors_total')).toBe(0);
    const text = g.auditText() + g.logs.join('');
    for (const secret of [AGENT_SECRET, INJECTED_KEY, s.token]) expect(text).not.toContain(secret);
  });
});
