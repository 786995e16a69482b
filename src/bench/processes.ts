// Child processes of the bench (upstream, bare proxy) and the CPU time any child has used, read from
// /proc/<pid>/stat, so the CPU per request of the gateway and of the bare proxy are measured the same way
// without either process having to report on itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface BenchChild {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): void;
}

/** Starts `dist/bench/<script>` and waits for the URL it prints on its first stdout line. */
export function startChild(script: string, args: readonly string[]): Promise<BenchChild> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(`./${script}`, import.meta.url)), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
    createInterface({ input: child.stdout! }).once('line', (url) => resolve({ url, child, stop: () => child.kill('SIGKILL') }));
  });
}

// Linux USER_HZ: 100 on every mainstream architecture (sysconf(_SC_CLK_TCK)); /proc counts in these ticks.
const TICKS_PER_SECOND = 100;

/** User + system CPU of a process in µs, or undefined where /proc is not available. */
export function cpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at state (field 3); utime and stime
    // are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1_000_000) / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}
