// The README's quick start and its "Unmodified agents quick start" must run as written: their shell blocks
// are taken from the README and run with bash and curl against a gateway with the shipped billing policy
// and the sample tool API. Only the documented URLs (127.0.0.1:8080/8081) are pointed at port-0 listeners,
// so the test never collides with anything else on the machine; `npx epochgate` runs this repository's CLI.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSampleTool, type SampleTool } from '../../src/demo/sample-tool.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, postJson } from '../helpers/client.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The `index`-th ```sh block of a README section. */
function block(section: string, index = 0): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${section}\n`);
  if (start < 0) throw new Error(`README: no section "${section}"`);
  const body = readme.slice(start + 1, readme.indexOf('\n## ', start + 5));
  const blocks = [...body.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  if (blocks[index] === undefined) throw new Error(`README: no sh block ${index} in "${section}"`);
  return blocks[index];
}

describe('e2e: the README quick starts', { timeout: 60_000 }, () => {
  let tool: SampleTool;
  let t: TestGateway;
  const run = async (script: string) => {
    const local = script.replaceAll('http://127.0.0.1:8080', t.data).replaceAll('http://127.0.0.1:8081', t.control);
    return promisify(execFile)('bash', ['-e', '-o', 'pipefail', '-c', local], {
      cwd: ROOT,
      // offline: `npx epochgate` must resolve this repository's own bin, never the registry.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), npm_config_offline: 'true', EPOCHGATE_CONTROL_URL: t.control },
      timeout: 45_000,
    });
  };
  beforeAll(async () => {
    tool = await startSampleTool();
    const dir = mkdtempSync(join(tmpdir(), 'epochgate-readme-'));
    mkdirSync(join(dir, 'policies'));
    copyFileSync(join(ROOT, 'policies', 'billing.yaml'), join(dir, 'policies', 'main.yaml'));
    t = await startTestGateway({ upstreamUrl: tool.url, dir, extraConfig: 'console:\n  enabled: true\n' });
  });
  afterAll(async () => {
    await t?.close();
    await tool?.close();
  });

  it('runs the quick start (terminal 3) as written: create, call, resume, fenced, revoked', async () => {
    const { stdout } = await run(block('Quick start', 1));
    expect(stdout).toContain('"invoice":"42"');
    expect(stdout).toContain('"epoch":2');
    expect(stdout).toMatch(/HTTP\/1\.1 401[\s\S]*session_stale_epoch/);
    expect(stdout).toContain('"state":"revoked"');
  });

  it('runs the unmodified-agents quick start as written: npx epochgate run gives the agent its tool URL and token', async () => {
    const { stdout, stderr } = await run(block('Unmodified agents quick start'));
    expect(stdout).toContain('"invoice":"42"');
    expect(stderr).toMatch(/epochgate run: session ses_\S+ epoch 1 \(created\)/);
    expect(stderr).toMatch(/epochgate run: command exited 0; session ses_\S+ closed/);
    expect(stdout + stderr).not.toContain('demo-billing-bot-secret');
  });

  it('runs the approvers\' steps as written: approval_required with the console link, then once after approval', async () => {
    const asked = await run(block('For approvers', 0));
    const problem = JSON.parse(asked.stdout);
    expect(problem).toMatchObject({ status: 403, code: 'approval_required', rule_id: 'refunds-need-approval' });
    expect(problem.approval_url).toBe(`${t.control}/console/approvals/${problem.approval_id}`);
    // Step 2 is a person in the console (the browser tests drive it); here the same operation through the API.
    const approved = await postJson(`${t.control}/v1/approvals/${problem.approval_id}/approve`, {}, bearer('demo-alice-secret'));
    expect(approved.status).toBe(200);
    const before = tool.calls;
    const done = await run(block('For approvers', 1));
    expect(JSON.parse(done.stdout)).toEqual({ path: '/api/refunds', bytes: 33 });
    expect(tool.calls).toBe(before + 1);
    const again = await run(block('For approvers', 1));
    expect(JSON.parse(again.stdout)).toMatchObject({ code: 'approval_required' });
    expect(tool.calls).toBe(before + 1);
  });
});
