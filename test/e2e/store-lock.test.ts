// SPEC §14 "one writer per SQLite file", on the built CLI (npm run build first): a second `serve` on the
// same file exits 1 naming the holder, and changes nothing: the first one's in-flight ledger entry is not
// marked unknown, its audit chain is not broken, the database and WAL are not touched.
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway, type SpawnedGateway } from '../../src/demo/spawn-gateway.js';
import { AGENT_SECRET, defaultPolicy, writeGatewayFiles } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, postJson } from '../helpers/client.js';
import { auditVerify, serveExpectingExit } from '../helpers/serve-exit.js';

const CRED = { agent_id: 'billing-bot', client_secret: AGENT_SECRET };
const RULES = `  - id: payments
    effect: allow
    roles: [billing-agent]
    tools: [billing]
    paths: ["/payments/**"]
    side_effects: true
`;

describe('e2e: a second serve on the same SQLite file', () => {
  let upstream: TestUpstream;
  let first: SpawnedGateway | undefined;
  let configFile: string;
  let auditFile: string;
  let dbFile: string;
  const held: (() => void)[] = [];

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      const reply = () => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ url: req.url }));
      };
      if (req.url === '/api/payments/held') held.push(reply);
      else reply();
    });
    const dir = mkdtempSync(join(tmpdir(), 'epochgate-e2e-lock-'));
    ({ configFile, auditFile } = writeGatewayFiles({ upstreamUrl: upstream.url, policy: defaultPolicy(RULES), dir, logLevel: 'info', toolTimeoutMs: 20_000 }));
    dbFile = join(dir, 'state', 'epochgate.db');
    first = await spawnGateway(configFile);
  });
  afterAll(async () => {
    for (const release of held) release();
    await first?.stop('SIGKILL');
    await upstream.close();
  });

  // The first gateway keeps heartbeating (replicas.heartbeat_at) while the second tries to start, so the
  // database is compared by content: every row of every table, and the replicas without their heartbeat
  // (a second process that got as far as registering would show up there).
  const snapshot = () => ({ audit: readFileSync(auditFile), db: databaseContent() });
  const databaseContent = (): string => {
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      const tables = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'replicas' ORDER BY name").pluck().all();
      const rows = tables.map((table) => [table, db.prepare(`SELECT * FROM "${table}"`).raw().all()]);
      rows.push(['replicas', db.prepare('SELECT replica_id, started_at, stopped_at FROM replicas ORDER BY replica_id').raw().all()]);
      return JSON.stringify(rows);
    } finally {
      db.close();
    }
  };

  it('exits 1 naming the holder (pid and host) and leaves the ledger, the audit chain and the database untouched', async () => {
    const gw = first!;
    const created = await postJson(`${gw.controlUrl}/v1/sessions`, { ...CRED, task_id: 'lock-task' });
    expect(created.status).toBe(201);
    const { session_id: sessionId, token } = created.json;
    const inFlight = postJson(`${gw.dataUrl}/tools/billing/payments/held`, { amount: 1 }, bearer(token));
    await waitFor(() => held.length === 1);
    const before = snapshot();

    // Its data port is the first one's: had it got that far, binding would fail too. It must stop before.
    const dataPort = new URL(gw.dataUrl).port;
    for (const args of [[], ['--listen-data', `127.0.0.1:${dataPort}`]]) {
      const second = await serveExpectingExit(configFile, args);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`process ${gw.child.pid} on host ${hostname()}`);
      expect(second.stderr).toContain(dbFile);
      expect(second.stderr).not.toMatch(/EADDRINUSE|listening/);
    }
    // With log.level silent too: the refusal is printed as plain text.
    const silentConfig = configFile.replace(/\.yaml$/, '-silent.yaml');
    writeFileSync(silentConfig, readFileSync(configFile, 'utf8').replace('level: info', 'level: silent'));
    const silent = await serveExpectingExit(silentConfig);
    expect(silent.code).toBe(1);
    expect(silent.stderr).toContain(`epochgate serve: SQLite store ${dbFile} is in use by process ${gw.child.pid} on host ${hostname()}`);
    const after = snapshot();
    // Nothing from the refused processes; the first may have anchored its chain meanwhile (every 60 s).
    expect(after.audit.subarray(0, before.audit.length).equals(before.audit)).toBe(true);
    const appended = after.audit.subarray(before.audit.length).toString().split('\n').filter(Boolean);
    expect(appended.map((line) => JSON.parse(line).api.operation).filter((op) => op !== 'audit.anchor')).toEqual([]);
    expect(after.db).toBe(before.db);

    // The first keeps serving: the held call completes and is recorded, not unknown.
    held.shift()!();
    expect((await inFlight).status).toBe(201);
    const resumed = await postJson(`${gw.controlUrl}/v1/sessions/${sessionId}/resume`, CRED);
    expect(resumed.status).toBe(200);
    expect(resumed.json.ledger.recent).toEqual([expect.objectContaining({ path: '/payments/held', state: 'completed', status: 201 })]);
    const replayed = await postJson(`${gw.dataUrl}/tools/billing/payments/held`, { amount: 1 }, bearer(resumed.json.token));
    expect(replayed.status).toBe(201);
    expect(replayed.headers['idempotent-replayed']).toBe('true');

    const records = readFileSync(auditFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(records.filter((r) => r.api.operation === 'ledger.unknown')).toEqual([]);
    expect(records.filter((r) => r.api.operation === 'gateway.start')).toHaveLength(1);
    const verified = await auditVerify(auditFile);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  });

  it('lets a new serve start once the holder was killed with kill -9 (the OS drops the lock)', async () => {
    expect(await first!.stop('SIGKILL')).toBeNull();
    first = await spawnGateway(configFile);
    const created = await postJson(`${first.controlUrl}/v1/sessions`, { ...CRED, task_id: 'after-crash' });
    expect(created.status).toBe(201);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
