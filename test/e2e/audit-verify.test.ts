// SPEC §13 tamper evidence, end to end: the built CLI serves real traffic (two process starts on one audit
// file, so two linked chains), `epochgate audit verify` accepts the file, and rejects copies with one line
// edited, deleted, two swapped, or one inserted, naming the first line that is out of place.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN_JS, spawnGateway, type SpawnedGateway } from '../../src/demo/spawn-gateway.js';
import { AGENT_SECRET, writeGatewayFiles } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { expectValidAuditFile, type AuditRecord } from '../helpers/audit-schema.js';
import { HashChain } from '../../src/audit/hash-chain.js';

const run = promisify(execFile);

async function verify(...files: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN_JS, 'audit', 'verify', ...files]);
    return { code: 0, out: stdout, err: stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}

describe('e2e: epochgate audit verify on a real audit file', () => {
  let upstream: TestUpstream;
  let gateway: SpawnedGateway | undefined;
  let dir: string;
  let auditFile: string;
  let lines: string[];
  let records: AuditRecord[];

  beforeAll(async () => {
    upstream = await startUpstream();
    ({ dir, auditFile } = writeGatewayFiles({ upstreamUrl: upstream.url, logLevel: 'info', dir: mkdtempSync(join(tmpdir(), 'epochgate-e2e-audit-')) }));
    const configFile = join(dir, 'epochgate.yaml');
    gateway = await spawnGateway(configFile);
    const created = await postJson(`${gateway.controlUrl}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: 'audit-e2e' });
    expect(created.status).toBe(201);
    const { session_id: sid, token } = created.json;
    expect((await call(`${gateway.dataUrl}/tools/billing/invoices/1`, { headers: bearer(token) })).status).toBe(200);
    expect((await call(`${gateway.dataUrl}/tools/billing/admin/x`, { headers: bearer(token) })).status).toBe(403);
    expect(await gateway.stop('SIGTERM')).toBe(0);
    // A second process start appends a second chain that links to the first one's last hash.
    gateway = await spawnGateway(configFile);
    const resumed = await postJson(`${gateway.controlUrl}/v1/sessions/${sid}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, expected_epoch: 1 });
    expect(resumed.status).toBe(200);
    expect((await call(`${gateway.dataUrl}/tools/billing/invoices/2`, { headers: bearer(token) })).status).toBe(401);
    expect((await call(`${gateway.dataUrl}/tools/billing/invoices/2`, { headers: bearer(resumed.json.token) })).status).toBe(200);
    expect(await gateway.stop('SIGTERM')).toBe(0);
    lines = readFileSync(auditFile, 'utf8').split('\n').slice(0, -1);
    records = expectValidAuditFile(auditFile);
  });
  afterAll(async () => {
    await gateway?.stop('SIGKILL');
    await upstream.close();
  });

  /** Writes a tampered copy next to the original and verifies it. */
  const tampered = (name: string, edit: (copy: string[]) => void) => {
    const copy = [...lines];
    edit(copy);
    const file = join(dir, name);
    writeFileSync(file, `${copy.join('\n')}\n`);
    return { file, result: verify(file) };
  };

  it('passes the untouched file: every record in two linked chains', async () => {
    const chains = new Set(records.map((r) => r.unmapped.epochgate.chain.uid));
    expect(chains.size).toBe(2);
    const starts = records.filter((r) => r.metadata.sequence === 1);
    expect(starts[0]!.unmapped.epochgate.chain.prev_hash).toBe('0'.repeat(64));
    const second = records.indexOf(starts[1]!);
    expect(starts[1]!.unmapped.epochgate.chain.prev_hash).toBe(records[second - 1]!.unmapped.epochgate.chain.hash);
    const res = await verify(auditFile);
    // Each process start ends with its stop anchor (SPEC §13 "Anchors").
    expect(res).toEqual({ code: 0, out: `${auditFile}: ok: ${lines.length} records in 2 chains, 2 anchors\n`, err: 'anchor signatures were not checked: give --config or --jwks\n' });
  });

  // The line to tamper with: a tool.call in the middle of the first chain.
  const target = () => records.findIndex((r) => r.api.operation === 'tool.call' && r.status_code === 'policy_denied');

  it('fails a copy with one line edited, naming that line', async () => {
    const i = target();
    expect(i).toBeGreaterThan(1);
    const { file, result } = tampered('edited.log', (copy) => {
      copy[i] = copy[i]!.replace('"status_code":"policy_denied"', '"status_code":"ok"');
    });
    const res = await result;
    expect(res.code).toBe(1);
    expect(res.out).toMatch(new RegExp(`^${file}:${i + 1}: changed: `));
  });

  it('fails a copy with one line deleted, naming the line where the gap is', async () => {
    const i = target();
    const { file, result } = tampered('deleted.log', (copy) => void copy.splice(i, 1));
    const res = await result;
    expect(res.code).toBe(1);
    expect(res.out).toMatch(new RegExp(`^${file}:${i + 1}: removed_or_inserted: `));
  });

  it('fails a copy with two lines swapped, naming the first of them', async () => {
    const i = target();
    const { file, result } = tampered('swapped.log', (copy) => {
      [copy[i], copy[i + 1]] = [copy[i + 1]!, copy[i]!];
    });
    const res = await result;
    expect(res.code).toBe(1);
    expect(res.out).toMatch(new RegExp(`^${file}:${i + 1}: reordered: `));
  });

  it('fails a copy with one line inserted, naming the inserted line', async () => {
    const i = target();
    // A forged record that is internally consistent (its own hash is right) but belongs to no chain position.
    const { file, result } = tampered('inserted.log', (copy) => void copy.splice(i, 0, lines[i - 1]!));
    const res = await result;
    expect(res.code).toBe(1);
    expect(res.out).toMatch(new RegExp(`^${file}:${i + 1}: (removed_or_inserted|reordered): `));
  });

  it('fails a copy where one record was re-sealed onto another predecessor (its prev_hash link), naming the line before it', async () => {
    const i = target();
    const { file, result } = tampered('relinked.log', (copy) => {
      const record = JSON.parse(copy[i]!) as AuditRecord;
      // Its own hash is recomputed, its chain uid and sequence stay: only prev_hash (the record two lines up) is wrong.
      copy[i] = new HashChain(record.unmapped.epochgate.chain.uid, records[i - 2]!.unmapped.epochgate.chain.hash).seal(record).line;
    });
    const res = await result;
    expect(res.code).toBe(1);
    expect(res.out).toMatch(new RegExp(`^${file}:${i}: changed: `));
  });

  it('verifies several files at once and fails if any one breaks', async () => {
    const { file } = tampered('edited-again.log', (copy) => {
      copy[1] = copy[1]!.replace('"severity_id":1', '"severity_id":2');
    });
    const res = await verify(auditFile, file);
    expect(res.code).toBe(1);
    expect(res.out).toContain(`${auditFile}: ok:`);
    expect(res.out).toContain(`${file}:2: changed:`);
  });
});
