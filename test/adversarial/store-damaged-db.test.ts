// Adversarial rows for the store (issue 8, SPEC §14), against the built CLI (npm run build first):
// - a damaged database file is a start-up error (exit 1 naming the file), never a fresh store that would
//   restart every epoch at 1; the file is left byte for byte, no audit record is written;
// - a second `serve` on a live gateway's file exits 1 naming the holder, and the first keeps serving.
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway } from '../../src/demo/spawn-gateway.js';
import { AGENT_SECRET, writeGatewayFiles } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { postJson, call } from '../helpers/client.js';
import { DAMAGES, writeDamaged, writeHealthyDatabase } from '../helpers/damaged-db.js';
import { serveExpectingExit } from '../helpers/serve-exit.js';

describe('adversarial: damaged or shared SQLite store files', () => {
  let upstream: TestUpstream;
  let healthy: Buffer;
  beforeAll(async () => {
    upstream = await startUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'epochgate-adv-healthy-'));
    healthy = await writeHealthyDatabase(join(dir, 'healthy.db'));
  });
  afterAll(() => upstream.close());

  const gatewayDir = () => {
    const files = writeGatewayFiles({ upstreamUrl: upstream.url, logLevel: 'info' });
    const dbFile = join(files.dir, 'state', 'epochgate.db');
    mkdirSync(join(files.dir, 'state'), { recursive: true });
    return { ...files, dbFile };
  };

  for (const damage of DAMAGES) {
    it(`refuses to start on a damaged database (${damage.name}): exit 1 naming the file, file and audit untouched`, async () => {
      const { configFile, auditFile, dbFile } = gatewayDir();
      const bytes = writeDamaged(dbFile, healthy, damage);
      const result = await serveExpectingExit(configFile);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain(dbFile);
      expect(result.stderr).toMatch(/corrupt|truncated|not an epochgate database/);
      expect(readFileSync(dbFile).equals(bytes)).toBe(true);
      expect(existsSync(`${dbFile}-wal`)).toBe(false);
      expect(existsSync(auditFile)).toBe(false);
    });
  }

  it('refuses a second serve on a live gateway\'s file, and the first keeps serving new sessions', async () => {
    const { configFile, auditFile } = gatewayDir();
    const first = await spawnGateway(configFile);
    try {
      const auditBefore = readFileSync(auditFile);
      const second = await serveExpectingExit(configFile);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`process ${first.child.pid} on host ${hostname()}`);
      expect(readFileSync(auditFile).equals(auditBefore)).toBe(true);
      expect((await call(`${first.controlUrl}/readyz`)).status).toBe(200);
      const created = await postJson(`${first.controlUrl}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: 'still-here' });
      expect(created.status).toBe(201);
    } finally {
      await first.stop('SIGKILL');
    }
  });
});
