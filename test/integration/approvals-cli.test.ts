// SPEC §15 `epochgate approvals list|show|approve|deny` against a real control plane; exit codes 0/1/2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApprovalsCommand } from '../../src/cli/approvals.js';
import type { CliIo } from '../../src/cli/io.js';
import { APPROVER_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { HR_SECRET, approvalPolicy, openSession, refund } from '../helpers/approvals.js';

describe('epochgate approvals (SPEC §15)', () => {
  let upstream: TestUpstream;
  let t: TestGateway;
  let env: NodeJS.ProcessEnv;

  const run = async (args: string[], overrides: NodeJS.ProcessEnv = {}) => {
    let stdout = '';
    let stderr = '';
    const io: CliIo = { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) };
    const code = await runApprovalsCommand(args, io, { ...env, ...overrides });
    return { code, stdout, stderr };
  };

  const requested = async (body?: string): Promise<string> => {
    const s = await openSession(t.control);
    return (await refund(t.data, s.token, '/refunds', body)).json.approval_id as string;
  };

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestGateway({ upstreamUrl: upstream.url, policy: approvalPolicy() });
    env = { EPOCHGATE_URL: t.control, EPOCHGATE_TOKEN: APPROVER_SECRET };
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('prints help with exit 0, and usage errors with exit 2', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('epochgate approvals list');
    expect((await run([])).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['show'])).code).toBe(2);
    expect((await run(['approve', 'a', 'b'])).code).toBe(2);
    expect((await run(['list', '--state', 'nonsense'])).code).toBe(2);
    expect((await run(['list', '--bogus'])).code).toBe(2);
    const noToken = await run(['list'], { EPOCHGATE_TOKEN: '' });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('EPOCHGATE_TOKEN');
  });

  it('lists pending approvals as a table, and as the API JSON with --json', async () => {
    const id = await requested();
    const table = await run(['list', '--state', 'pending']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+STATE\s+RULE\s+ACTION\s+SESSION\s+CREATED\s+EXPIRES$/);
    const row = table.stdout.split('\n').find((line) => line.startsWith(id))!;
    expect(row).toMatch(/pending\s+refunds-need-approval\s+POST billing \/refunds/);
    const json = await run(['list', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).approvals.map((a: { approval_id: string }) => a.approval_id)).toContain(id);
  });

  it('shows one approval with its body preview, escaping control characters the agent put in it', async () => {
    // A raw ESC (not valid JSON inside a string, but the gateway takes any bytes): a terminal would obey it.
    const id = await requested('{"amount":7,"note":"\u001b[2Jhidden"}');
    const shown = await run(['show', id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/approval:\s+apr_/);
    expect(shown.stdout).toMatch(/rule:\s+refunds-need-approval/);
    expect(shown.stdout).toContain('"amount":7');
    expect(shown.stdout).toContain('\\u001b[2Jhidden');
    expect(shown.stdout).not.toContain('\u001b');
  });

  it('approves with a comment (exit 0), then reports approval_not_pending with exit 1', async () => {
    const id = await requested();
    const ok = await run(['approve', id, '--comment', 'FIN-42']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`Approved ${id}`);
    const again = await run(['approve', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('409 approval_not_pending');
    const json = await run(['show', id, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ state: 'approved', decided_by: 'alice', comment: 'FIN-42' });
  });

  it('denies, and refuses a person without the rule’s approver role with exit 1 forbidden', async () => {
    const id = await requested();
    const wrong = await run(['deny', id, '--token', HR_SECRET]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('403 forbidden');
    expect(wrong.stderr).not.toContain(HR_SECRET);
    const denied = await run(['deny', id]);
    expect(denied.code).toBe(0);
    expect(denied.stdout).toContain(`Denied ${id}`);
  });

  it('fails with exit 1 when the control plane cannot be reached, without printing the token', async () => {
    const res = await run(['list'], { EPOCHGATE_URL: 'http://127.0.0.1:1' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('cannot reach');
    expect(res.stderr).not.toContain(APPROVER_SECRET);
  });
});
