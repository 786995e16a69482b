// The built CLI (`epochgate serve`, last-resort handlers installed) under the inputs that used to end the
// process: bodies cut short by the size limit in chunked framing on both planes (the control plane
// unauthenticated), early ends, and an audit file that becomes a directory. The process must still be
// running and serving afterwards, and nothing may have reached the last-resort handlers (counter at 0).
import { mkdirSync, readFileSync, renameSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway, type SpawnedGateway } from '../../src/demo/spawn-gateway.js';
import { bearer, call } from '../helpers/client.js';
import { writeGatewayFiles } from '../helpers/gateway.js';
import { counter, openSession, type OpenSession } from '../helpers/hostile-gateway.js';
import { chunk, head, rawExchange, waitUntil } from '../helpers/raw-http.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

let upstream: TestUpstream;
let gw: SpawnedGateway;
let files: ReturnType<typeof writeGatewayFiles>;
let s: OpenSession;

beforeAll(async () => {
  upstream = await startUpstream();
  files = writeGatewayFiles({ upstreamUrl: upstream.url, logLevel: 'info' });
  gw = await spawnGateway(files.configFile);
  s = await openSession(gw.controlUrl, 'serve-survives');
});
afterAll(async () => {
  await gw?.stop('SIGKILL');
  await upstream?.close();
});

const big = chunk('x'.repeat(64 * 1024));

describe('epochgate serve keeps running', () => {
  it.each([
    { name: 'control plane, unauthenticated, chunked over 1 MiB', url: () => gw.controlUrl, path: () => '/v1/sessions', auth: false, parts: Array<string>(18).fill(big) },
    { name: 'data plane, chunked over max_body_bytes', url: () => gw.dataUrl, path: () => '/tools/billing/echo/x', auth: true, parts: Array<string>(3).fill(big) },
    { name: 'control plane with a token, chunked ending early', url: () => gw.controlUrl, path: () => `/v1/sessions/${s.sessionId}/checkpoints`, auth: true, parts: [chunk('{"state":')], early: true },
    { name: 'data plane, content-length ending early', url: () => gw.dataUrl, path: () => '/tools/billing/echo/x', auth: true, parts: ['{"a":'], length: 500, early: true },
  ])('after $name', async (row) => {
    const headers: [string, string][] = row.length ? [['Content-Length', String(row.length)]] : [['Transfer-Encoding', 'chunked']];
    if (row.auth) headers.push(['Authorization', `Bearer ${s.token}`]);
    await rawExchange(row.url(), [head('POST', row.path(), headers), ...row.parts], { ending: row.early ? 'half-close' : 'keep' });
    expect(gw.child.exitCode).toBeNull();
    const fresh = await openSession(gw.controlUrl, `after-${row.name}`);
    expect((await call(`${gw.dataUrl}/tools/billing/invoices/1`, { headers: bearer(fresh.token) })).status).toBe(200);
  });

  it('after its audit file became a directory, and recovers once it is a file again', async () => {
    renameSync(files.auditFile, join(files.dir, 'audit.old.log'));
    mkdirSync(files.auditFile);
    await waitUntil(async () => (await call(`${gw.dataUrl}/tools/billing/invoices/1`, { headers: bearer(s.token) }).catch(() => undefined))?.status === 503, 5_000);
    expect((await call(`${gw.controlUrl}/readyz`)).status).toBe(503);
    expect(gw.child.exitCode).toBeNull();
    rmdirSync(files.auditFile);
    await waitUntil(async () => (await call(`${gw.controlUrl}/readyz`)).status === 200, 5_000);
    expect(gw.logLines.some((l) => l.includes('audit stream recovered'))).toBe(true);
  });

  it('never reached the last-resort handlers', async () => {
    expect(await counter(gw.controlUrl, 'epochgate_internal_errors_total')).toBe(0);
    expect(gw.logLines.some((l) => l.includes('escaped its owner'))).toBe(false);
  });
});

describe('epochgate serve with an audit stream that cannot be written at start', () => {
  it('refuses to start (exit 1, the reason in the log) rather than serve unaudited', async () => {
    const other = writeGatewayFiles({ upstreamUrl: upstream.url, logLevel: 'info' });
    writeFileSync(other.configFile, readFileSync(other.configFile, 'utf8').replace('path: audit.log', 'path: /dev/full'));
    await expect(spawnGateway(other.configFile)).rejects.toThrow(/exited with 1[\s\S]*audit/);
  });
});
