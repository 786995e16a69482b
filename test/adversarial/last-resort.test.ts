// DESIGN rule 15, the last net of `epochgate serve`: an error that escapes its owner is logged and counted
// (epochgate_internal_errors_total) and the process keeps running. Run in a child process against the
// built module, because vitest itself treats an unhandled rejection in this process as a failed run.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const lastResort = fileURLToPath(new URL('../../dist/cli/last-resort.js', import.meta.url));
const metrics = fileURLToPath(new URL('../../dist/metrics/metrics.js', import.meta.url));

const SCRIPT = `
const { installLastResort } = await import(${JSON.stringify(lastResort)});
const { GatewayMetrics } = await import(${JSON.stringify(metrics)});
const m = new GatewayMetrics({});
const lines = [];
const logger = { error: (obj, msg) => lines.push(msg) };
installLastResort(logger, m);
Promise.reject(new Error('escaped rejection'));
setTimeout(() => { throw new Error('escaped exception'); }, 0);
setTimeout(async () => {
  const value = (await m.internalErrors.get()).values[0]?.value ?? 0;
  console.log(JSON.stringify({ value, lines }));
}, 50);
`;

describe('the last-resort process handlers', () => {
  it('log and count an escaped rejection and an escaped exception, and the process carries on', () => {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT], { encoding: 'utf8', timeout: 10_000 });
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout.trim()) as { value: number; lines: string[] };
    expect(out.value).toBe(2);
    expect(out.lines).toEqual(['error escaped its owner; still serving', 'error escaped its owner; still serving']);
  });
});
