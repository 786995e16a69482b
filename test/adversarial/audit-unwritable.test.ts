// The audit stream becoming unwritable at run time (SPEC §13): the audit file swapped for a directory, or for
// /dev/full (ENOSPC; tests run as root, so permissions would not stop a write). The process keeps running;
// /readyz 503 and /livez 200; the request that meets the failure and every new one on either plane answer
// 503 audit_unavailable without reaching the tool; a side effect under way keeps its ledger outcome; and once
// writes succeed again, the first record is audit.recovered and every file still verifies.
import { mkdirSync, readFileSync, renameSync, rmdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditLines } from '../../src/audit/verify.js';
import { AGENT_SECRET } from '../helpers/gateway.js';
import { bearer, call, postJson, type Reply } from '../helpers/client.js';
import { head, rawExchange, waitUntil, type RawResponse } from '../helpers/raw-http.js';
import { counter, expectStillServing, openSession, startHostileGateway, type HostileGateway, type OpenSession } from '../helpers/hostile-gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

let upstream: TestUpstream;
let g: HostileGateway;
let s: OpenSession;
let release: () => void = () => {};
let outages = 0;

beforeAll(async () => {
  upstream = await startUpstream((req, res, body) => {
    const answer = (): void => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url, body }));
    };
    if (req.url === '/api/echo/held') new Promise<void>((resolve) => (release = resolve)).then(answer, answer);
    else answer();
  });
  g = await startHostileGateway({ upstreamUrl: upstream.url });
  s = await openSession(g.control, 'audit-outage');
});
afterAll(async () => {
  release();
  await g?.close();
  await upstream?.close();
});

const getInvoice = (): Promise<Reply> => call(`${g.data}/tools/billing/invoices/1`, { headers: bearer(s.token) });
const health = async (base: string, path: string): Promise<number> => (await call(`${base}${path}`)).status;

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
}

/**
 * Polls with a cheap request until the gateway noticed the broken stream (it checks the file at most every
 * 200 ms). The request that meets the failure after its response started is cut instead (SPEC §13).
 */
async function waitForOutage(probe: () => Promise<Reply>): Promise<Reply> {
  let last: Reply | undefined;
  await waitUntil(async () => (last = await probe().catch(() => undefined))?.status === 503, 5_000);
  return last!;
}

async function expectOutage(): Promise<void> {
  const seen = upstream.seen.length;
  for (const base of [g.data, g.control]) {
    expect(await health(base, '/readyz')).toBe(503);
    expect(await health(base, '/livez')).toBe(200);
  }
  const create = await postJson(`${g.control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: 'refused' });
  expect([create.status, create.json?.code]).toEqual([503, 'audit_unavailable']);
  expect(create.headers['retry-after']).toBe('1');
  const tool = await getInvoice();
  expect([tool.status, tool.json?.code]).toEqual([503, 'audit_unavailable']);
  expect(upstream.seen.length).toBe(seen);
}

async function expectRecovered(file: string, minimumRefused: number): Promise<void> {
  await waitUntil(async () => (await health(g.data, '/readyz')) === 200, 5_000);
  const first = JSON.parse(lines(file)[0]!);
  expect(first.api.operation).toBe('audit.recovered');
  expect(first.unmapped.epochgate.outage_ms).toBeGreaterThan(0);
  expect(first.unmapped.epochgate.refused_requests).toBeGreaterThanOrEqual(minimumRefused);
  await expectStillServing(g, `after-outage-${(outages += 1)}`);
  expect(verifyAuditLines(lines(file))).toMatchObject({ ok: true });
}

describe('the audit file swapped for a directory while a side effect is under way', () => {
  let held: Promise<RawResponse>;
  const before = (): string => join(g.dir, 'audit.before.log');

  it('answers 503 audit_unavailable on both planes, reports not ready but live, and reaches no tool', async () => {
    held = rawExchange(g.data, [head('POST', '/tools/billing/echo/held', [['Authorization', `Bearer ${s.token}`], ['Content-Type', 'application/json'], ['Content-Length', '2']]), '{}'], { deadlineMs: 15_000 });
    await waitUntil(() => upstream.seen.some((r) => r.url === '/api/echo/held'), 5_000);
    renameSync(g.auditFile, before());
    mkdirSync(g.auditFile);
    const met = await waitForOutage(getInvoice);
    expect(met.json?.code).toBe('audit_unavailable');
    await expectOutage();
  });

  it('never sends the held side effect\'s answer as if it had been recorded, and still settles its ledger entry', async () => {
    release();
    const reply = await held;
    // Its response started before the record could be written: the connection is cut, never completed.
    expect(reply.status === 503 || !reply.complete).toBe(true);
    rmdirSync(g.auditFile);
    await expectRecovered(g.auditFile, 2);
    const ledger = await call(`${g.control}/v1/sessions/${s.sessionId}/ledger`, { headers: bearer(s.token) });
    expect(ledger.status).toBe(200);
    expect(ledger.json.entries.map((e: { state: string }) => e.state)).toEqual(['completed']);
  });

  it('leaves the file it was writing before the swap verifying as written', () => {
    expect(verifyAuditLines(lines(before()))).toMatchObject({ ok: true });
  });
});

describe('the audit file replaced by /dev/full (ENOSPC)', () => {
  it('fails closed from the control plane on, and recovers once the file is back', async () => {
    renameSync(g.auditFile, join(g.dir, 'audit.second.log'));
    symlinkSync('/dev/full', g.auditFile);
    const met = await waitForOutage(() => postJson(`${g.control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: 'meets-it' }));
    expect(met.json?.code).toBe('audit_unavailable');
    await expectOutage();
    unlinkSync(g.auditFile);
    await expectRecovered(g.auditFile, 2);
  });

  it('never reached the last-resort handlers nor counted an internal error', async () => {
    expect(await counter(g.control, 'epochgate_internal_errors_total')).toBe(0);
    expect(g.logs.some((l) => l.includes('audit stream write failed'))).toBe(true);
  });
});
