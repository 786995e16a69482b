// Drives the load with wrk when it is installed (a C load generator takes far less of a 2-core machine's
// CPU than the Node generator in load.ts, so the gateway's own cost shows more truly). Optional: the
// bench falls back to load.ts, and says which generator it used. Method, headers, body and the fresh
// Idempotency-Key per request are set by a generated Lua script (one wrk thread, so one counter).
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LoadDriver, LoadResult, LoadSpec } from './load.js';

export function wrkAvailable(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing its banner; only a missing binary is "not available".
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** The Lua script for one spec; strings go through JSON (a valid Lua string literal for our ASCII values). */
export function wrkScript(spec: LoadSpec): string {
  const lines = [`wrk.method = ${JSON.stringify(spec.method ?? 'GET')}`];
  for (const [name, value] of Object.entries(spec.headers ?? {})) lines.push(`wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`);
  if (spec.body !== undefined) lines.push(`wrk.body = ${JSON.stringify(spec.body)}`);
  if (spec.freshIdempotencyKey) {
    lines.push(
      `local prefix, n = ${JSON.stringify(randomUUID())}, 0`,
      'request = function()',
      '  n = n + 1',
      '  wrk.headers["Idempotency-Key"] = prefix .. "-" .. n',
      '  return wrk.format()',
      'end',
    );
  }
  return `${lines.join('\n')}\n`;
}

export const runWrk: LoadDriver = async (spec) => {
  const dir = mkdtempSync(join(tmpdir(), 'epochgate-wrk-'));
  const script = join(dir, 'load.lua');
  writeFileSync(script, wrkScript(spec));
  const seconds = Math.max(1, Math.round(spec.durationMs / 1000));
  const args = ['-t', '1', '-c', String(spec.connections), '-d', `${seconds}s`, '--latency', '-s', script, spec.url];
  try {
    const { stdout } = await promisify(execFile)('wrk', args, { timeout: spec.durationMs + 30_000 });
    return parseWrk(stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

export function parseWrk(stdout: string): LoadResult {
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
