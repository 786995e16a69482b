// SPEC §13 "Anchors", end to end with the built CLI: a gateway with traffic, stopped and started again;
// `audit verify --config` passes (also while the gateway runs and holds the store's one-writer lock),
// `--jwks` checks the anchors with the keys the running control plane publishes, and a copy of the file
// with its last records cut is reported against the anchor the store holds.
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN_JS, spawnGateway, type SpawnedGateway } from '../../src/demo/spawn-gateway.js';
import { AGENT_SECRET, writeGatewayFiles } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson } from '../helpers/client.js';

const run = promisify(execFile);
const CHECKER = fileURLToPath(new URL('../../docs/audit-check.py', import.meta.url));
/** The independent checker needs a Python 3 with the `cryptography` package (Ed25519); `.ci/run` installs
 *  Debian's python3-cryptography when neither interpreter has it. Missing, the test fails: it never skips. */
const PYTHON = ['python3', '/usr/bin/python3'].find(
  (python) => spawnSync(python, ['-c', 'import cryptography.hazmat.primitives.asymmetric.ed25519']).status === 0,
);

async function pyCheck(...args: string[]): Promise<{ code: number; out: string }> {
  if (PYTHON === undefined) throw new Error('no python3 with the cryptography package (apt-get install python3-cryptography)');
  try {
    return { code: 0, out: (await run(PYTHON, [CHECKER, ...args])).stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}

async function verify(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN_JS, 'audit', 'verify', ...args]);
    return { code: 0, out: stdout, err: stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}

describe('e2e: signed audit anchors and audit verify --config / --jwks', () => {
  let upstream: TestUpstream;
  let gateway: SpawnedGateway | undefined;
  let dir: string;
  let configFile: string;
  let auditFile: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    ({ dir, configFile, auditFile } = writeGatewayFiles({ upstreamUrl: upstream.url, logLevel: 'info', dir: mkdtempSync(join(tmpdir(), 'epochgate-e2e-anchors-')) }));
    gateway = await spawnGateway(configFile);
    const created = await postJson(`${gateway.controlUrl}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: 'anchors-e2e' });
    expect(created.status).toBe(201);
    for (let i = 0; i < 5; i++) expect((await call(`${gateway.dataUrl}/tools/billing/invoices/${i}`, { headers: bearer(created.json.token) })).status).toBe(200);
    expect(await gateway.stop('SIGTERM')).toBe(0);
    gateway = await spawnGateway(configFile);
  });
  afterAll(async () => {
    await gateway?.stop('SIGKILL');
    await upstream.close();
  });

  it('verifies with --jwks against the running control plane and with --config while the gateway holds the store', async () => {
    writeFileSync(join(dir, 'jwks.json'), await (await fetch(`${gateway!.controlUrl}/.well-known/jwks.json`)).text());
    const jwks = await verify(auditFile, '--jwks', `${gateway!.controlUrl}/.well-known/jwks.json`);
    expect(jwks).toMatchObject({ code: 0, err: expect.stringContaining(`anchor signatures checked with ${gateway!.controlUrl}/.well-known/jwks.json`) });
    expect(jwks.out).toMatch(/ok: \d+ records in 2 chains, 1 anchors/);
    const live = await verify(auditFile, '--config', configFile);
    expect(live).toMatchObject({ code: 0, err: expect.stringContaining('compared with the anchors stored in') });
    // The read-only check neither took nor broke the lock: the gateway still serves.
    expect((await call(`${gateway!.dataUrl}/readyz`)).status).toBe(200);
  });

  it('passes after a stop, and names the cut when the last records are removed', async () => {
    expect(await gateway!.stop('SIGTERM')).toBe(0);
    gateway = undefined;
    const ok = await verify(auditFile, '--config', configFile);
    expect(ok).toMatchObject({ code: 0, out: expect.stringMatching(/ok: \d+ records in 2 chains, 2 anchors/) });
    const lines = readFileSync(auditFile, 'utf8').trimEnd().split('\n');
    const last = JSON.parse(lines.at(-1)!) as { unmapped: { epochgate: { anchor: { chain_uid: string; sequence: number } } } };
    const cutFile = join(dir, 'cut.log');
    for (const cut of [1, 3]) {
      writeFileSync(cutFile, lines.slice(0, -cut).map((l) => `${l}\n`).join(''));
      const res = await verify(cutFile, '--config', configFile);
      expect(res.code).toBe(1);
      const { chain_uid, sequence } = last.unmapped.epochgate.anchor;
      expect(res.out).toContain(`${cutFile}:${lines.length - cut}: cut_tail: chain ${chain_uid} ends at sequence ${sequence + 1 - cut} but the store holds an anchor at ${sequence}`);
      expect(await pyCheck(cutFile, '--jwks', join(dir, 'jwks.json'), '--db', join(dir, 'state/epochgate.db'))).toMatchObject({ code: 1, out: expect.stringContaining(`cut_tail: ${chain_uid}`) });
    }
  });

  it('the independent Python checker agrees on the real file', async () => {
    const db = join(dir, 'state/epochgate.db');
    expect(await pyCheck(auditFile, '--jwks', join(dir, 'jwks.json'), '--db', db)).toEqual({ code: 0, out: 'ok\n' });
    const lines = readFileSync(auditFile, 'utf8').trimEnd().split('\n');
    const forged = join(dir, 'forged-jwks.json');
    writeFileSync(forged, JSON.stringify({ keys: [] }));
    expect(await pyCheck(auditFile, '--jwks', forged)).toMatchObject({ code: 1, out: expect.stringContaining(`:${lines.length}: anchor_forged: unknown kid`) });
  });

  it('answers a usage error with 2', async () => {
    expect((await verify(auditFile, '--config', configFile, '--jwks', 'http://127.0.0.1:1/')).code).toBe(2);
  });
});
