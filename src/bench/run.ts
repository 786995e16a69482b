// `npm run bench` (SPEC §16): one run, side by side, same load — direct to the upstream, through a bare
// Node pass-through proxy, and through the gateway (SQLite store, audit to a file, built CLI).
// Reports req/s and p50/p99, the gateway's throughput as a ratio of the bare proxy's, and the latency it adds.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { startSampleTool } from '../demo/sample-tool.js';
import { spawnGateway } from '../demo/spawn-gateway.js';
import { writeDemoConfig } from '../demo/demo-config.js';
import { runLoad, type LoadResult } from './load.js';
import { runWrk, wrkAvailable } from './wrk.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const GENERATOR = process.env.BENCH_GENERATOR ?? (wrkAvailable() ? 'wrk' : 'node');
const drive = GENERATOR === 'wrk' ? runWrk : runLoad;

async function startBareProxy(upstream: string) {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./bare-proxy.js', import.meta.url)), upstream], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
  return { url, stop: () => child.kill('SIGKILL') };
}

function row(name: string, r: LoadResult): string {
  return `${name.padEnd(12)} ${r.rps.toFixed(0).padStart(8)} req/s   p50 ${r.p50Ms.toFixed(2).padStart(6)} ms   p99 ${r.p99Ms.toFixed(2).padStart(6)} ms   errors ${r.errors}`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'epochgate-bench-'));
  const tool = await startSampleTool();
  const bare = await startBareProxy(`${tool.url}/api`);
  const configFile = writeDemoConfig(dir, tool.url);
  const gateway = await spawnGateway(configFile).catch(async (err: unknown) => {
    bare.stop();
    await tool.close();
    throw err;
  });
  try {
    const created = await fetch(`${gateway.controlUrl}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agent_id: 'billing-bot', client_secret: 'demo-billing-bot-secret' }),
    });
    const { token } = (await created.json()) as { token: string };
    const load = { connections: CONNECTIONS, durationMs: DURATION_MS };
    const path = '/invoices/42';
    // Warm every path once so JIT and connection pools are in the same state.
    for (const url of [`${tool.url}/api${path}`, `${bare.url}${path}`]) await drive(url, { ...load, durationMs: 1000 });
    await drive(`${gateway.dataUrl}/tools/billing${path}`, { ...load, durationMs: 1000, headers: { authorization: `Bearer ${token}` } });
    const direct = await drive(`${tool.url}/api${path}`, load);
    const proxied = await drive(`${bare.url}${path}`, load);
    const gated = await drive(`${gateway.dataUrl}/tools/billing${path}`, { ...load, headers: { authorization: `Bearer ${token}` } });
    process.stdout.write(`epochgate bench: ${CONNECTIONS} connections, ${DURATION_MS / 1000} s each, small JSON responses, load from ${GENERATOR}\n`);
    process.stdout.write(`${row('direct', direct)}\n${row('bare proxy', proxied)}\n${row('epochgate', gated)}\n`);
    process.stdout.write(`gateway throughput / bare proxy: ${(gated.rps / proxied.rps).toFixed(2)}x\n`);
    process.stdout.write(`gateway added latency over direct: p50 +${(gated.p50Ms - direct.p50Ms).toFixed(2)} ms, p99 +${(gated.p99Ms - direct.p99Ms).toFixed(2)} ms\n`);
    if (gated.errors > 0) process.exitCode = 1;
  } finally {
    await gateway.stop();
    bare.stop();
    await tool.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
