// SPEC §10 "Cost does not grow with the ledger", measured: the side-effecting POST's throughput when the
// session's window already holds 0, 10 k and 100 k identical calls. The calls are seeded through the store
// API (the same reserve + complete a forwarded call makes, with the gateway's own fingerprint) while the
// gateway is stopped, with synchronous=normal for speed; then the gateway (synchronous=full) is started on
// that database and measured. Seeding stops at a time budget, and the report says how far it got, so a
// ledger whose cost grows shows as a short curve instead of a bench that never ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actionDigest } from '../approvals/digest.js';
import { spawnGateway, type SpawnedGateway } from '../demo/spawn-gateway.js';
import { KEY_TTL_MS, newLedgerEntryId } from '../ledger/ledger-flow.js';
import { openStore } from '../store/open-store.js';
import { sha256Hex } from '../util/hash.js';
import { createBenchSession, writeBenchConfig, type BenchSession } from './bench-config.js';
import type { LoadDriver } from './load.js';
import { measure } from './measure.js';
import type { CurvePoint } from './report.js';
import { ORDER_BODY, SCENARIOS } from './scenarios.js';

export interface CurveOptions {
  readonly upstream: string;
  readonly drive: LoadDriver;
  readonly durationMs: number;
  readonly connections: number;
  readonly points: readonly number[];
  /** Total wall time allowed for seeding, all points together. */
  readonly seedBudgetMs: number;
  readonly progress: (message: string) => void;
}

const RESPONSE = Buffer.from('{"id":"ord_1","received":1024}');

/** Appends completed identical calls until the window holds `target` (or the deadline passes); returns the count. */
async function seed(dbPath: string, session: BenchSession, target: number, deadline: number): Promise<number> {
  const store = await openStore({ kind: 'sqlite', path: dbPath, synchronous: 'normal' });
  try {
    const fingerprint = actionDigest({ tool: 'api', method: 'POST', path: '/orders', query: '', body: Buffer.from(ORDER_BODY), contentType: 'application/json', mcpTool: undefined });
    let count = (await store.ledger.summary(session.sessionId, 0)).count;
    for (let i = 0; count < target && (i % 256 !== 0 || performance.now() < deadline); i++) {
      const attempt = `seed-${count}`;
      const now = Date.now();
      const reserved = await store.ledger.reserve({
        sessionId: session.sessionId, epoch: session.epoch, tool: 'api', idempotencyKey: null, fingerprint, method: 'POST',
        path: '/orders', mcpTool: null, attempt, replicaId: 'rep_bench_seed', newEntryId: newLedgerEntryId(), now, keyTtlMs: KEY_TTL_MS,
      });
      if (reserved.kind !== 'forward') throw new Error(`seeding the ledger: reserve answered ${reserved.kind}`);
      const outcome = { status: 201, headers: { 'content-type': 'application/json' }, body: RESPONSE, bodySha256: sha256Hex(RESPONSE), bodyBytes: RESPONSE.length, now };
      await store.ledger.complete(reserved.entry.entryId, attempt, outcome);
      count++;
    }
    return (await store.ledger.summary(session.sessionId, 0)).count;
  } finally {
    await store.close();
  }
}

export async function ledgerCurve(options: CurveOptions): Promise<CurvePoint[]> {
  const dir = mkdtempSync(join(tmpdir(), 'epochgate-bench-curve-'));
  const config = writeBenchConfig(dir, options.upstream);
  const scenario = SCENARIOS.find((s) => s.id === 'post_ledger')!;
  const warm = SCENARIOS.find((s) => s.id === 'get_small')!;
  const deadline = performance.now() + options.seedBudgetMs;
  let gateway: SpawnedGateway | undefined = await spawnGateway(config);
  const points: CurvePoint[] = [];
  try {
    const session = await createBenchSession(gateway.controlUrl);
    for (const target of options.points) {
      let windowEntries = 0;
      if (target > 0) {
        await gateway.stop();
        gateway = undefined;
        options.progress(`ledger curve: seeding ${target} identical calls`);
        windowEntries = await seed(join(dir, 'epochgate.db'), session, target, deadline);
        gateway = await spawnGateway(config);
      }
      const targets = { upstream: options.upstream, bare: options.upstream, gateway: gateway.dataUrl };
      // Warm the fresh process on reads (no ledger entries), so every point starts equally warm.
      await options.drive({ ...warm.spec('gateway', targets, session.token), connections: options.connections, durationMs: 1000 });
      options.progress(`ledger curve: measuring at ${windowEntries}`);
      const spec = { ...scenario.spec('gateway', targets, session.token), connections: options.connections, durationMs: options.durationMs };
      const measured = await measure(options.drive, spec, gateway.child.pid);
      const first = points[0]?.gateway.rps ?? measured.rps;
      points.push({ windowEntries, target, gateway: measured, ratioToFirst: first > 0 ? measured.rps / first : 0 });
    }
    return points;
  } finally {
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
