// SPEC §15 `epochgate sessions list|show|revoke`: the built CLI against a spawned gateway's control plane,
// with the admin secret from --token or EPOCHGATE_TOKEN and the URL from --url or EPOCHGATE_URL.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN_JS, spawnGateway, type SpawnedGateway } from '../../src/demo/spawn-gateway.js';
import { ADMIN_SECRET, AGENT_SECRET, APPROVER_SECRET, OTHER_AGENT_SECRET, writeGatewayFiles } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson } from '../helpers/client.js';

const exec = promisify(execFile);

describe('e2e: epochgate sessions list|show|revoke', () => {
  let upstream: TestUpstream;
  let gateway: SpawnedGateway;
  let a: { session_id: string; token: string };
  let b: { session_id: string; token: string };
  const printed: string[] = [];

  /** Runs the built CLI; env defaults to the admin token and the gateway's control URL. */
  async function cli(args: string[], env: Record<string, string | undefined> = {}) {
    const fullEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, EPOCHGATE_URL: gateway.controlUrl, EPOCHGATE_TOKEN: ADMIN_SECRET, ...env };
    for (const [key, value] of Object.entries(fullEnv)) if (value === undefined) delete fullEnv[key];
    let res: { code: number; out: string; err: string };
    try {
      const { stdout, stderr } = await exec(process.execPath, [MAIN_JS, 'sessions', ...args], { env: fullEnv });
      res = { code: 0, out: stdout, err: stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      res = { code: e.code, out: e.stdout, err: e.stderr };
    }
    printed.push(res.out, res.err);
    return res;
  }

  beforeAll(async () => {
    upstream = await startUpstream();
    const { configFile } = writeGatewayFiles({ upstreamUrl: upstream.url, logLevel: 'info' });
    gateway = await spawnGateway(configFile);
    a = (await postJson(`${gateway.controlUrl}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: 'cli-a' })).json;
    b = (await postJson(`${gateway.controlUrl}/v1/sessions`, { agent_id: 'other-bot', client_secret: OTHER_AGENT_SECRET, task_id: 'cli-b' })).json;
    expect((await postJson(`${gateway.controlUrl}/v1/sessions/${a.session_id}/checkpoints`, { label: 'half-way', state: { n: 1 } }, bearer(a.token))).status).toBe(201);
  });
  afterAll(async () => {
    await gateway?.stop('SIGTERM');
    await upstream.close();
    // No command ever printed a secret or a token, whatever it was asked.
    const all = printed.join('\n');
    for (const secret of [ADMIN_SECRET, APPROVER_SECRET, AGENT_SECRET, 'wrong-admin-secret-42', a.token, b.token]) expect(all).not.toContain(secret);
  });

  it('lists sessions as a table by default', async () => {
    const res = await cli(['list']);
    expect(res).toMatchObject({ code: 0, err: '' });
    const [header, ...rows] = res.out.trimEnd().split('\n');
    expect(header).toMatch(/^SESSION\s+AGENT\s+TASK\s+STATE\s+EPOCH\s+RESUMES/);
    expect(rows.find((r) => r.startsWith(a.session_id))).toMatch(/billing-bot\s+cli-a\s+active\s+1\s+0/);
    expect(rows.some((r) => r.startsWith(b.session_id))).toBe(true);
  });

  it('filters by state and agent, and prints the API JSON with --json', async () => {
    const res = await cli(['list', '--agent', 'other-bot', '--state', 'active', '--json']);
    expect(res.code).toBe(0);
    const body = JSON.parse(res.out);
    expect(body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([b.session_id]);
    expect((await cli(['list', '--state', 'revoked'])).out).toBe('no sessions\n');
  });

  it('shows one session with its latest checkpoint', async () => {
    const res = await cli(['show', a.session_id]);
    expect(res.code).toBe(0);
    expect(res.out).toMatch(new RegExp(`^session:\\s+${a.session_id}$`, 'm'));
    expect(res.out).toMatch(/state:\s+active/);
    expect(res.out).toMatch(/checkpoint:\s+#1 half-way at epoch 1/);
    expect(JSON.parse((await cli(['show', a.session_id, '--json'])).out)).toMatchObject({ session_id: a.session_id, epoch: 1, last_checkpoint: { seq: 1 } });
  });

  it('revokes a session with --url and --token flags; its token is refused from then on', async () => {
    const res = await cli(['revoke', b.session_id, '--reason', 'incident 77', '--url', gateway.controlUrl, '--token', ADMIN_SECRET], { EPOCHGATE_URL: undefined, EPOCHGATE_TOKEN: undefined });
    expect(res).toMatchObject({ code: 0, err: '' });
    expect(res.out).toBe(`revoked ${b.session_id} (agent other-bot, task cli-b, epoch 1)\n`);
    const refused = await call(`${gateway.dataUrl}/tools/billing/invoices/1`, { headers: bearer(b.token) });
    expect(refused.json.code).toBe('session_revoked');
    expect((await cli(['show', b.session_id])).out).toMatch(/state:\s+revoked \(incident 77\)/);
  });

  it('exits 1 with the problem code when the gateway refuses', async () => {
    const notAdmin = await cli(['list'], { EPOCHGATE_TOKEN: APPROVER_SECRET });
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.err).toContain('epochgate sessions list: 403 forbidden');
    const wrong = await cli(['revoke', a.session_id], { EPOCHGATE_TOKEN: 'wrong-admin-secret-42' });
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('401 credential_invalid');
    const missing = await cli(['show', 'ses_doesnotexist']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('404 session_not_found');
  });

  it('exits 1 when the control plane cannot be reached', async () => {
    const res = await cli(['list', '--url', 'http://127.0.0.1:1']);
    expect(res.code).toBe(1);
    expect(res.err).toContain('cannot reach the control plane at http://127.0.0.1:1 (ECONNREFUSED)');
  });

  it('exits 2 on usage errors: no token, no or bad SESSION_ID, misplaced flags; 0 on --help', async () => {
    expect((await cli(['list'], { EPOCHGATE_TOKEN: undefined })).code).toBe(2);
    expect((await cli(['show'])).code).toBe(2);
    expect((await cli(['show', '../v1/policy'])).code).toBe(2);
    expect((await cli(['revoke', a.session_id, '--state', 'active'])).code).toBe(2);
    expect((await cli(['list', '--state', 'sleeping'])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('epochgate sessions revoke SESSION_ID');
  });
});
