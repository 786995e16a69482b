// `npm run bench` (SPEC §16): one run, side by side, same load — direct to the upstream, through a bare
// Node pass-through proxy, and through the gateway (built CLI as a fresh process: SQLite store with
// synchronous=full, hash-chained audit to a file). Every scenario at 1 and 32 connections, with req/s,
// p50/p99, CPU µs per request of the bare proxy and the gateway, and the gateway's ratio to the bare proxy;
// then the ledger-growth curve. `-- --json` prints the figures as JSON instead of the table.
// Knobs: BENCH_SECONDS (per run, default 3), BENCH_CONNECTIONS (default 32), BENCH_GENERATOR (wrk|node),
// BENCH_SCENARIOS (comma-separated ids), BENCH_CURVE (comma-separated points, "" to skip the curve),
// BENCH_STORE_URL (a postgres:// URL: measure the PostgreSQL store instead of SQLite).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAuditLines } from '../audit/verify.js';
import { spawnGateway, type SpawnedGateway } from '../demo/spawn-gateway.js';
import { createBenchSession, writeBenchConfig } from './bench-config.js';
import { ledgerCurve } from './ledger-curve.js';
import { runLoad, type LoadDriver } from './load.js';
import { measure } from './measure.js';
import { startChild } from './processes.js';
import { formatReport, pairResult, type BenchReport, type PairResult, type ScenarioResult } from './report.js';
import { SCENARIOS, type Scenario, type Targets } from './scenarios.js';
import { runWrk, wrkAvailable } from './wrk.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = [1, Number(process.env.BENCH_CONNECTIONS ?? 32)];
const GENERATOR: 'wrk' | 'node' = (process.env.BENCH_GENERATOR ?? (wrkAvailable() ? 'wrk' : 'node')) === 'wrk' ? 'wrk' : 'node';
const drive: LoadDriver = GENERATOR === 'wrk' ? runWrk : runLoad;
const ONLY = process.env.BENCH_SCENARIOS?.split(',').filter(Boolean);
// The curve seeds the SQLite file directly, so it is measured on the SQLite store only.
const CURVE = process.env.BENCH_STORE_URL ? [] : (process.env.BENCH_CURVE ?? '0,10000,100000').split(',').filter(Boolean).map(Number);
const JSON_OUT = process.argv.includes('--json');
const progress = (message: string): void => void process.stderr.write(`… ${message}\n`);

async function runScenario(scenario: Scenario, targets: Targets, gateway: SpawnedGateway, barePid: number | undefined): Promise<ScenarioResult> {
  const token = async (): Promise<string> => (await createBenchSession(gateway.controlUrl)).token;
  const shared = scenario.freshSession ? undefined : await token();
  const spec = async (target: 'direct' | 'bare' | 'gateway', connections: number, durationMs: number) => ({
    ...scenario.spec(target, targets, target === 'gateway' ? (shared ?? (await token())) : ''),
    connections,
    durationMs,
  });
  progress(`${scenario.id}: warming up`);
  for (const target of ['direct', 'bare', 'gateway'] as const) await drive(await spec(target, CONNECTIONS[1]!, 1000));
  const runs: PairResult[] = [];
  for (const connections of CONNECTIONS) {
    progress(`${scenario.id}: ${connections} connection(s)`);
    const durationMs = SECONDS * 1000;
    const direct = await measure(drive, await spec('direct', connections, durationMs));
    const bare = await measure(drive, await spec('bare', connections, durationMs), barePid);
    const gated = await measure(drive, await spec('gateway', connections, durationMs), gateway.child.pid);
    runs.push(pairResult(connections, direct, bare, gated));
  }
  return { id: scenario.id, title: scenario.title, runs };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'epochgate-bench-'));
  const upstream = await startChild('upstream.js', []);
  const stops: (() => unknown)[] = [() => upstream.stop(), () => rmSync(dir, { recursive: true, force: true })];
  try {
    const bare = await startChild('bare-proxy.js', [upstream.url]);
    stops.unshift(() => bare.stop());
    const gateway = await spawnGateway(writeBenchConfig(dir, upstream.url));
    stops.unshift(() => gateway.stop());
    const targets: Targets = { upstream: upstream.url, bare: bare.url, gateway: gateway.dataUrl };
    const scenarios: ScenarioResult[] = [];
    for (const scenario of SCENARIOS) {
      if (ONLY && !ONLY.includes(scenario.id)) continue;
      scenarios.push(await runScenario(scenario, targets, gateway, bare.child.pid));
    }
    await gateway.stop();
    const audit = verifyAuditLines(readFileSync(join(dir, 'audit.log'), 'utf8'));
    const ledger = CURVE.length === 0 ? [] : await ledgerCurve({
      upstream: upstream.url, drive, durationMs: SECONDS * 1000, connections: CONNECTIONS[1]!, points: CURVE, seedBudgetMs: 90_000, progress,
    });
    const report: BenchReport = { generator: GENERATOR, secondsPerRun: SECONDS, node: process.version, scenarios, ledgerCurve: ledger, audit };
    process.stdout.write(JSON_OUT ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    const errors = [...scenarios.flatMap((s) => s.runs.map((r) => r.gateway.errors + r.bare.errors)), ...ledger.map((p) => p.gateway.errors)];
    if (errors.some((n) => n > 0) || !audit.ok) process.exitCode = 1;
  } finally {
    for (const stop of stops) await stop();
  }
}

void main();
