// Runs `epochgate serve` (the built CLI) when it is expected to exit at start-up: its exit code and stderr.
import { execFile } from 'node:child_process';
import { MAIN_JS } from '../../src/demo/spawn-gateway.js';

export interface ServeExit {
  readonly code: number | null;
  readonly stderr: string;
}

export function serveExpectingExit(configFile: string, extraArgs: string[] = [], timeoutMs = 15_000): Promise<ServeExit> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN_JS, 'serve', '--config', configFile, ...extraArgs], { timeout: timeoutMs }, (err, _stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stderr });
    });
  });
}

/** `epochgate audit verify FILE…`: exit code and output. */
export function auditVerify(...files: string[]): Promise<ServeExit & { stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN_JS, 'audit', 'verify', ...files], (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}
