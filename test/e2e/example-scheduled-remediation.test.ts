// examples/scheduled-remediation (story d): `npm run example:remediation` must tell its story and exit 0:
// the next scheduled run resumes the task from its last verified checkpoint and makes no duplicate change.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('e2e: examples/scheduled-remediation', () => {
  it('resumes the task in the next scheduled run from the last verified checkpoint, without a duplicate change', async () => {
    const script = fileURLToPath(new URL('../../examples/scheduled-remediation/run.mjs', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 30_000, env: { PATH: process.env.PATH } });
    expect(stdout).toContain('agent: epoch 2; last verified checkpoint: host-1, host-2');
    expect(stdout).toMatch(/patch host-3: 201 \(already applied before the node was lost/);
    expect(stdout).toContain('example: every check passed.');
    expect(stdout).not.toContain('demo-remediation-bot-secret');
  }, 30_000);
});
