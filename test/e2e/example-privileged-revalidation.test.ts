// examples/privileged-revalidation (story c): `npm run example:privileged` must tell its story and exit 0:
// after its node is lost, a privileged agent resumes only with the scope the current policy still gives it,
// and not at all once it is disabled.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('e2e: examples/privileged-revalidation', () => {
  it('narrows the resumed scope after a role is removed, and refuses a disabled agent', async () => {
    const script = fileURLToPath(new URL('../../examples/privileged-revalidation/run.mjs', import.meta.url));
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script], { timeout: 30_000, env: { PATH: process.env.PATH } });
    expect(stdout).toContain('agent: epoch 1, scope [db, tickets]');
    expect(stdout).toContain('agent: epoch 2, scope [tickets]');
    expect(stdout).toContain('agent: database maintenance: 403 scope_exceeded');
    expect(stderr).toContain('cannot open a session for agent ops-bot: 403 agent_disabled');
    expect(stdout).toContain('example: every check passed.');
    expect(stdout + stderr).not.toMatch(/demo-(ops-bot|admin)-secret/);
  }, 30_000);
});
