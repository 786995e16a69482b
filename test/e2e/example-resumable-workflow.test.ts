// examples/resumable-workflow: `npm run example:workflow` must tell its story and exit 0: a workflow under
// `epochgate run --restart` is killed mid-run, resumed with its checkpoint, and repeats no side effect.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('e2e: examples/resumable-workflow', () => {
  it('continues from the checkpoint after the agent is killed, and sends every reminder exactly once', async () => {
    const script = fileURLToPath(new URL('../../examples/resumable-workflow/run.mjs', import.meta.url));
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script], { timeout: 30_000, env: { PATH: process.env.PATH } });
    expect(stdout).toContain('agent: epoch 2, checkpoint "2 sent": 2 sent');
    expect(stdout).toContain('agent: reminder for INV-3: 201 (answered from the gateway ledger: not sent again)');
    expect(stdout).toContain('example: every check passed.');
    expect(stderr).toMatch(/command exited 137; restart 1 of 2 at epoch 2/);
    expect(stdout + stderr).not.toContain('demo-workflow-bot-secret');
  }, 30_000);
});
