// examples/approval-crash (story a): `npm run example:approval` must tell its story and exit 0: a worker
// crashes while waiting for approval; the resumed run of the same task uses the approval given meanwhile,
// once, in the same session, and the audit stream holds the whole trail.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('e2e: examples/approval-crash', () => {
  it('resumes the task after the crash and lets the approved refund through exactly once', async () => {
    const script = fileURLToPath(new URL('../../examples/approval-crash/run.mjs', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 30_000, env: { PATH: process.env.PATH } });
    expect(stdout).toContain('worker: the worker crashes while it waits');
    expect(stdout).toContain('worker: epoch 2, resuming after checkpoint "invoice checked"');
    expect(stdout).toMatch(/approval.request \(epoch 1\)\n\s+approval.approve \(by alice\)\n\s+session.resume \(epoch 2\)\n\s+approval.consume \(epoch 2\)/);
    expect(stdout).toContain('example: every check passed.');
    for (const secret of ['demo-refund-bot-secret', 'demo-alice-secret', 'demo-admin-secret']) expect(stdout).not.toContain(secret);
  }, 30_000);
});
