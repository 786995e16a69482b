// `npm run demo` is a promise to new users: it must tell the story and exit 0 (it checks every step).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('e2e: npm run demo', () => {
  it('runs the crash → resume → fencing → revoke story against the built CLI and exits 0', async () => {
    const script = fileURLToPath(new URL('../../dist/demo/run.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 30_000 });
    expect(stdout).toContain('401 session_stale_epoch, resume required');
    expect(stdout).toContain('demo: every step behaved as stated.');
    // It checks its audit stream before removing its temporary state, and names no file it deletes.
    expect(stdout).toMatch(/The audit stream held \d+ records \(.*session\.resume.*\); its hash chain verifies\./);
    expect(stdout).not.toContain('audit.log');
    expect(stdout).not.toContain('NOT AS EXPECTED');
    expect(stdout).not.toContain('demo-admin-secret');
    expect(stdout).not.toContain('demo-billing-bot-secret');
  });
});
