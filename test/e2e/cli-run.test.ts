// SPEC §15 "Unmodified agents": `epochgate run` (the launcher) and `epochgate token` (the headers helper),
// the built CLI against a spawned gateway. The agent is test/fixtures/run/agent.mjs, which knows nothing
// but the environment the launcher gives it. Tokens live 3 s and leases 3 s here, so refresh and lease
// renewal are exercised within seconds.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN_JS, spawnGateway, type SpawnedGateway } from '../../src/demo/spawn-gateway.js';
import { ADMIN_SECRET, AGENT_SECRET, defaultPolicy, writeGatewayFiles } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson } from '../helpers/client.js';

const AGENT = fileURLToPath(new URL('../fixtures/run/agent.mjs', import.meta.url));
const SIGNER = fileURLToPath(new URL('../fixtures/run/assertion.mjs', import.meta.url));
const SHORT_SESSIONS = `sessions:\n  token_ttl: 3s\n  lease_ttl: 3s\n`;

interface CliRun {
  code: number | null;
  out: string;
  err: string;
}

describe('e2e: epochgate run and epochgate token', { timeout: 30_000 }, () => {
  let upstream: TestUpstream;
  let gateway: SpawnedGateway;
  let dir: string;
  let signerKey: string;
  const printed: string[] = [];
  const tokens: string[] = [];

  /** Starts the built CLI; `until` resolves with its exit; extra env on top of PATH and the control URL. */
  function launch(args: string[], env: Record<string, string> = {}) {
    const child = spawn(process.execPath, [MAIN_JS, ...args], {
      env: { PATH: process.env.PATH, EPOCHGATE_CONTROL_URL: gateway.controlUrl, AGENT_SECRET, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const until = new Promise<CliRun>((resolve) =>
      child.once('close', (code) => {
        printed.push(out, err);
        resolve({ code, out, err });
      }),
    );
    return { child, until };
  }
  const runCli = (args: string[], env?: Record<string, string>) => launch(args, env).until;
  const agentArgs = (task: string, mode: string, out: string, extra: string[] = [], tail: string[] = []) =>
    ['run', '--agent', 'billing-bot', '--secret-env', 'AGENT_SECRET', '--task', task, ...extra, '--', process.execPath, AGENT, mode, out, ...tail];
  const reportFile = (name: string) => join(dir, `${name}.jsonl`);
  const reports = (file: string): any[] =>
    existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)) : [];
  const sessionState = async (id: string) => (await call(`${gateway.controlUrl}/v1/sessions/${id}`, { headers: bearer(ADMIN_SECRET) })).json;
  async function waitFor<T>(probe: () => T | undefined, what: string): Promise<T> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  beforeAll(async () => {
    upstream = await startUpstream();
    dir = mkdtempSync(join(tmpdir(), 'epochgate-run-test-'));
    // billing-bot also holds a jwt credential, for --assertion-cmd.
    const pair = await generateKeyPair('ES256', { extractable: true });
    const issuer = 'https://workload-idp.test';
    const subject = 'spiffe://test/billing-bot';
    writeFileSync(join(dir, 'workload.jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'w1', alg: 'ES256' }] }));
    signerKey = join(dir, 'signer.json');
    writeFileSync(signerKey, JSON.stringify({ jwk: { ...(await exportJWK(pair.privateKey)), kid: 'w1' }, issuer, subject }));
    const policy = defaultPolicy(SHORT_SESSIONS).replace(
      '  other-bot:',
      `      - type: jwt\n        issuer: "${issuer}"\n        subject: "${subject}"\n        jwks_file: "../workload.jwks.json"\n  other-bot:`,
    );
    const { configFile } = writeGatewayFiles({ upstreamUrl: upstream.url, logLevel: 'info', dir, policy });
    gateway = await spawnGateway(configFile);
  });
  afterAll(async () => {
    await gateway?.stop('SIGTERM');
    await upstream?.close();
    // The launcher and the helper never print the agent's secret; the launcher never prints a token.
    const all = printed.join('\n');
    expect(all).not.toContain(AGENT_SECRET);
    for (const token of tokens) expect(all).not.toContain(token);
  });

  it('creates the session and gives the agent its environment, without the secret; closes it on exit 0', async () => {
    const out = reportFile('env');
    const res = await runCli(agentArgs('env-1', 'env', out), { KEEP_ME: 'yes' });
    expect(res.code).toBe(0);
    const [seen] = reports(out);
    const env = seen.env;
    tokens.push(env.EPOCHGATE_TOKEN);
    expect(env).toMatchObject({
      EPOCHGATE_EPOCH: '1',
      EPOCHGATE_CONTROL_URL: gateway.controlUrl,
      EPOCHGATE_TOOL_URL_BILLING: `${gateway.dataUrl}/tools/billing`,
      EPOCHGATE_TOOL_URL_CRM: `${gateway.dataUrl}/tools/crm`,
      KEEP_ME: 'yes',
    });
    expect(env.EPOCHGATE_SESSION_ID).toMatch(/^ses_/);
    expect(env.AGENT_SECRET).toBeUndefined();
    expect(env.EPOCHGATE_CHECKPOINT_FILE).toBeUndefined();
    expect(JSON.stringify(seen)).not.toContain(AGENT_SECRET);
    expect(seen.mode).toBe(0o600);
    expect(seen.content).toBe(`${env.EPOCHGATE_TOKEN}\n`);
    expect(seen.call.status).toBe(200);
    expect(res.err).toContain(`session ${env.EPOCHGATE_SESSION_ID} epoch 1 (created)`);
    expect((await sessionState(env.EPOCHGATE_SESSION_ID)).state).toBe('closed');
    // The token file lived in a private directory that is gone with the run.
    expect(existsSync(env.EPOCHGATE_TOKEN_FILE)).toBe(false);
  });

  it('resumes the agent\'s open session for the task (session_exists) instead of failing', async () => {
    const created = await postJson(`${gateway.controlUrl}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: 'resume-1' });
    expect(created.status).toBe(201);
    tokens.push(created.json.token);
    const out = reportFile('resume');
    const res = await runCli(agentArgs('resume-1', 'env', out, [], ['5']));
    expect(res.code).toBe(5);
    const [seen] = reports(out);
    tokens.push(seen.env.EPOCHGATE_TOKEN);
    expect(seen.env).toMatchObject({ EPOCHGATE_SESSION_ID: created.json.session_id, EPOCHGATE_EPOCH: '2' });
    expect(res.err).toContain('epoch 2 (resumed)');
    // The old worker's token is fenced off; a non-zero exit leaves the session resumable.
    expect((await call(`${gateway.dataUrl}/tools/billing/invoices/1`, { headers: bearer(created.json.token) })).json.code).toBe('session_stale_epoch');
    expect((await sessionState(created.json.session_id)).state).toBe('active');
    expect(res.err).toContain('left resumable at epoch 2');
  });

  it('refreshes the token file before the token expires and renews the lease while the agent runs', async () => {
    const out = reportFile('refresh');
    const res = await runCli(agentArgs('refresh-1', 'refresh', out));
    expect(res.code).toBe(0);
    const [seen] = reports(out);
    tokens.push(seen.first.trim(), seen.second.trim(), seen.third.trim());
    expect(new Set([seen.first, seen.second, seen.third]).size).toBe(3);
    expect(seen.mode).toBe(0o600);
    // Over 3 s after the start: the first token and the lease would both have run out without the launcher.
    expect(seen.call.status).toBe(200);
    expect((await call(`${gateway.dataUrl}/tools/billing/invoices/1`, { headers: bearer(seen.first.trim()) })).status).toBe(401);
  });

  it.each([
    ['SIGTERM', 7],
    ['SIGINT', 8],
  ] as const)('passes %s on to the agent, exits with its code, and neither restarts nor closes the session', async (signal, code) => {
    const out = reportFile(`signal-${signal}`);
    const { child, until } = launch(agentArgs(`signal-${signal}`, 'signal', out, ['--restart', '2']));
    await waitFor(() => (reports(out).some((r) => r.ready) ? true : undefined), 'the agent to start');
    child.kill(signal);
    const res = await until;
    expect(res.code).toBe(code);
    expect(reports(out)).toEqual([expect.objectContaining({ ready: true }), { got: signal }]);
    const id = /session (ses_\S+) epoch 1/.exec(res.err)![1]!;
    expect((await sessionState(id)).state).toBe('active');
  });

  it('restarts a crashed agent after a resume, with the checkpoint file, and no side effect runs twice', async () => {
    const out = reportFile('workflow');
    const res = await runCli(agentArgs('workflow-1', 'workflow', out, ['--restart', '2']));
    expect(res.code).toBe(0);
    const [crashed, resumed] = reports(out);
    tokens.push(crashed.token, resumed.token);
    expect(crashed).toMatchObject({ epoch: '1', checkpoint: null });
    expect(resumed.epoch).toBe('2');
    expect(resumed.checkpoint).toMatchObject({ seq: 1, epoch: 1, label: 'after step 2', state: { step: 2 } });
    expect(Object.keys(resumed.checkpoint).sort()).toEqual(['checkpoint_id', 'created_at', 'epoch', 'label', 'seq', 'state', 'state_digest']);
    // Step 3 ran before the crash: its repeat is answered from the gateway's ledger, not sent again.
    expect(resumed.steps.map((s: any) => [s.step, s.status, s.replayed])).toEqual([
      [3, 200, true],
      [4, 200, false],
    ]);
    const steps = upstream.seen.filter((r) => r.url.startsWith('/api/invoices/step-')).map((r) => r.url);
    expect(steps).toEqual(['/api/invoices/step-1', '/api/invoices/step-2', '/api/invoices/step-3', '/api/invoices/step-4']);
    expect(resumed.oldToken).toBe('session_stale_epoch');
    expect(res.err).toContain('restart 1 of 2 at epoch 2');
    expect((await sessionState(/session (ses_\S+)/.exec(res.err)![1]!)).state).toBe('closed');
  });

  it('stops restarting when another worker resumed the session meanwhile (epoch_conflict)', async () => {
    const out = reportFile('superseded');
    const { until } = launch(agentArgs('superseded-1', 'signal', out, ['--restart', '3']));
    const ready = await waitFor(() => reports(out).find((r) => r.ready), 'the agent to start');
    const listed = await call(`${gateway.controlUrl}/v1/sessions?task_id=superseded-1&state=active`, { headers: bearer(ADMIN_SECRET) });
    const id = listed.json.sessions[0].session_id;
    const other = await postJson(`${gateway.controlUrl}/v1/sessions/${id}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET });
    expect(other.json.epoch).toBe(2);
    tokens.push(other.json.token);
    // The agent fails (here: it is killed, not through the launcher); the launcher must not take the
    // session back from the worker that holds epoch 2.
    process.kill(ready.pid, 'SIGTERM');
    const res = await until;
    expect(res.code).toBe(7);
    expect(res.err).toContain('epoch_conflict');
    expect(reports(out).filter((r) => r.ready)).toHaveLength(1);
    expect((await sessionState(id)).epoch).toBe(2);
  });

  it('authenticates with a fresh client assertion from --assertion-cmd for every control-plane call', async () => {
    const out = reportFile('assertion');
    const args = ['run', '--agent', 'billing-bot', '--assertion-cmd', `"${process.execPath}" "${SIGNER}" "${signerKey}"`, '--task', 'assertion-1', '--restart', '1'];
    const res = await runCli([...args, '--', process.execPath, AGENT, 'env', out, '9']);
    // Create, then a resume for the restart: two assertions, each single use (a reused jti would be refused).
    expect(res.code).toBe(9);
    expect(reports(out).map((r) => r.env.EPOCHGATE_EPOCH)).toEqual(['1', '2']);
    for (const r of reports(out)) tokens.push(r.env.EPOCHGATE_TOKEN);
  });

  it('refuses bad command lines with exit 2 and starts nothing', async () => {
    const cases: string[][] = [
      ['run', '--secret-env', 'AGENT_SECRET', '--', 'true'],
      ['run', '--agent', 'billing-bot', '--', 'true'],
      ['run', '--agent', 'billing-bot', '--secret-env', 'AGENT_SECRET', '--assertion-cmd', 'x', '--', 'true'],
      ['run', '--agent', 'billing-bot', '--secret-env', 'AGENT_SECRET'],
      ['run', '--agent', 'billing-bot', '--secret-env', 'NOT_SET_ANYWHERE', '--', 'true'],
      ['run', '--agent', 'billing-bot', '--secret-env', 'AGENT_SECRET', '--restart', 'many', '--', 'true'],
      ['run', '--agent', 'billing-bot', '--secret-env', 'AGENT_SECRET', '--restart=', '--', 'true'],
      ['run', '--agent', 'billing-bot', '--secret-env', 'AGENT_SECRET', '--restart', '1.5', '--', 'true'],
      ['run', '--agent', 'billing-bot', '--secret-env', 'AGENT_SECRET', '--control', 'ftp://x', '--', 'true'],
      ['run', '--agent', 'billing-bot', '--secret-env', 'AGENT_SECRET', '--scope', 'a b', '--', 'true'],
      ['run', '--agent', 'billing-bot', '--secret-env', 'AGENT_SECRET', '--bogus', '--', 'true'],
    ];
    for (const args of cases) {
      const res = await runCli(args);
      expect({ args, code: res.code }).toEqual({ args, code: 2 });
      expect(res.err).toContain('Usage: epochgate run');
    }
  }, 30_000);

  it('exits 1 when the session cannot be opened (wrong secret)', async () => {
    const res = await runCli(agentArgs('wrong-1', 'env', reportFile('wrong')), { AGENT_SECRET: 'not-the-secret-at-all' });
    expect(res.code).toBe(1);
    expect(res.err).toContain('credential_invalid');
    expect(existsSync(reportFile('wrong'))).toBe(false);
  });

  describe('epochgate token', () => {
    const jws = (claims: object) => `eyJhbGciOiJFZERTQSJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

    it('prints the Authorization header for the token file named by EPOCHGATE_TOKEN_FILE or --token-file', async () => {
      const token = jws({ iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 });
      const file = join(dir, 'token-ok');
      writeFileSync(file, `${token}\n`, { mode: 0o600 });
      for (const res of [await runCli(['token'], { EPOCHGATE_TOKEN_FILE: file }), await runCli(['token', '--token-file', file])]) {
        expect(res).toMatchObject({ code: 0, err: '' });
        expect(JSON.parse(res.out)).toEqual({ Authorization: `Bearer ${token}` });
      }
    });

    it('exits 1 with a clear message when the file is missing, not given, or its token expired', async () => {
      const expired = join(dir, 'token-expired');
      writeFileSync(expired, `${jws({ iat: 1_700_000_000, exp: 1_700_000_900 })}\n`);
      const missing = await runCli(['token', '--token-file', join(dir, 'nope')]);
      expect(missing).toMatchObject({ code: 1, out: '' });
      expect(missing.err).toContain('no such file');
      const none = await runCli(['token']);
      expect(none).toMatchObject({ code: 1, out: '' });
      expect(none.err).toContain('EPOCHGATE_TOKEN_FILE');
      const old = await runCli(['token', '--token-file', expired]);
      expect(old).toMatchObject({ code: 1, out: '' });
      expect(old.err).toContain('expired at 2023-11-14T22:28:20.000Z');
      expect((await runCli(['token', '--bogus'])).code).toBe(2);
      expect((await runCli(['token', '--help'])).out).toContain('Usage: epochgate token');
    });

    it('serves the token file of a live run (headers helper inside the agent)', async () => {
      const out = reportFile('helper');
      const res = await runCli(agentArgs('helper-1', 'helper', out, [], [MAIN_JS]));
      expect(res.code).toBe(0);
      const [seen] = reports(out);
      tokens.push(seen.file.trim());
      // The header is the token the file held when `epochgate token` ran (a refresh may follow at once).
      const held = [seen.before.trim(), seen.file.trim()].map((t: string) => ({ Authorization: `Bearer ${t}` }));
      expect(held).toContainEqual(seen.headers);
      expect(seen.status).toBe(200);
    });
  });
});
