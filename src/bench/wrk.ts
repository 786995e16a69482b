// Drives the load with wrk when it is installed (a C load generator takes far less of a 2-core machine's
// CPU than the Node generator in load.ts, so the gateway's own cost shows more truly). Optional: the
// bench falls back to load.ts, and says which generator it used.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import type { LoadResult } from './load.js';

export function wrkAvailable(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing its banner; only a missing binary is "not available".
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

export async function runWrk(url: string, options: { connections: number; durationMs: number; headers?: Record<string, string> }): Promise<LoadResult> {
  const args = ['-t', '1', '-c', String(options.connections), '-d', `${Math.max(1, Math.round(options.durationMs / 1000))}s`, '--latency'];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`);
  const { stdout } = await promisify(execFile)('wrk', [...args, url], { timeout: options.durationMs + 30_000 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
  return { requests, errors, rps, p50Ms: percentile(stdout, '50%'), p99Ms: percentile(stdout, '99%') };
}

function percentile(output: string, label: string): number {
  const match = new RegExp(`^\\s+${label}\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(output);
  if (!match) return 0;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}
