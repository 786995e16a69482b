// The demo's launcher: runs the built CLI (`dist/main.js serve`) as a child process, exactly as an operator
// would, and waits for its "listening" line. `npm run demo` and `npm run bench` start the gateway with it;
// the end-to-end tests reuse it so they start the gateway the same way the shipped demo does.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export interface SpawnedGateway {
  readonly child: ChildProcess;
  readonly dataUrl: string;
  readonly controlUrl: string;
  /** Operational log lines seen so far (stderr). */
  readonly logLines: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

// Always the built CLI, wherever this module runs from (dist/demo/, or src/demo/ under the tests).
export const MAIN_JS = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export function spawnGateway(configFile: string, extraArgs: string[] = [], timeoutMs = 15_000): Promise<SpawnedGateway> {
  const child = spawn(process.execPath, [MAIN_JS, 'serve', '--config', configFile, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logLines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not start in ${timeoutMs} ms:\n${logLines.join('\n')}`));
    }, timeoutMs);
    const onEarlyExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening:\n${logLines.join('\n')}`));
    };
    child.once('exit', onEarlyExit);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      logLines.push(line);
      const urls = listeningUrls(line);
      if (urls === null) return;
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      resolve({
        child,
        ...urls,
        logLines,
        stop: (signal = 'SIGTERM') => {
          if (child.exitCode !== null || child.signalCode !== null) return exited;
          child.kill(signal);
          return exited;
        },
      });
    });
  });
}

/** The bound URLs from the gateway's "listening" log line; null for any other line. */
function listeningUrls(line: string): { dataUrl: string; controlUrl: string } | null {
  let entry: { msg?: string; data_url?: string; control_url?: string };
  try {
    entry = JSON.parse(line);
  } catch {
    return null;
  }
  if (entry.msg !== 'listening' || !entry.data_url || !entry.control_url) return null;
  return { dataUrl: entry.data_url, controlUrl: entry.control_url };
}
