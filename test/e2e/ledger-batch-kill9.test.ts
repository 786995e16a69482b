// Group commit under kill -9 (SPEC §10, §14; src/store/sqlite/sqlite-write-batch.ts): many side-effecting
// calls arrive together, so their reservations share batches. A call reaches the tool only after its
// reservation's batch committed, so every call the tool saw must still have its ledger entry after a
// kill -9 (as unknown: the gateway died mid-call), and a resumed worker repeating them calls the tool for
// none of them. Runs on the built CLI (npm run build first).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway, type SpawnedGateway } from '../../src/demo/spawn-gateway.js';
import { AGENT_SECRET, defaultPolicy, writeGatewayFiles } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { auditVerify } from '../helpers/serve-exit.js';

const CRED = { agent_id: 'billing-bot', client_secret: AGENT_SECRET };
const CALLS = 24;
const RULES = `  - id: payments-side-effecting
    effect: allow
    roles: [billing-agent]
    tools: [billing]
    methods: [POST]
    paths: ["/payments/*"]
    side_effects: true
`;

describe('e2e: kill -9 with a batch of reservations in flight', () => {
  let upstream: TestUpstream;
  let gateway: SpawnedGateway | undefined;
  let configFile: string;
  let auditFile: string;
  const held: (() => void)[] = [];

  beforeAll(async () => {
    upstream = await startUpstream((_req, res) => {
      // The tool holds every payment: the gateway dies while all of them are in flight.
      held.push(() => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    const dir = mkdtempSync(join(tmpdir(), 'epochgate-e2e-batch-kill9-'));
    ({ configFile, auditFile } = writeGatewayFiles({ upstreamUrl: upstream.url, policy: defaultPolicy(RULES), dir, logLevel: 'info', toolTimeoutMs: 20_000 }));
    gateway = await spawnGateway(configFile);
  });
  afterAll(async () => {
    for (const release of held) release();
    await gateway?.stop('SIGKILL');
    await upstream.close();
  });

  it('keeps the entry of every call the tool saw', async () => {
    const created = await postJson(`${gateway!.controlUrl}/v1/sessions`, { ...CRED, task_id: 'kill-during-batch' });
    const { session_id: sessionId, token } = created.json;
    const pay = (g: SpawnedGateway, t: string, i: number) =>
      call(`${g.dataUrl}/tools/billing/payments/${i}`, { method: 'POST', headers: { ...bearer(t), 'content-type': 'application/json' }, body: `{"n":${i}}` });
    const inFlight = Array.from({ length: CALLS }, (_, i) => pay(gateway!, token, i).catch((err: unknown) => err));
    await waitFor(() => upstream.seen.length === CALLS);

    expect(await gateway!.stop('SIGKILL')).toBeNull();
    await Promise.all(inFlight);
    const second = await spawnGateway(configFile);
    gateway = second;

    const resumed = await postJson(`${second.controlUrl}/v1/sessions/${sessionId}/resume`, CRED);
    expect(resumed.status).toBe(200);
    const seen = upstream.seen.length;
    for (let i = 0; i < CALLS; i++) {
      const repeated = await pay(second, resumed.json.token, i);
      expect(repeated.json.code).toBe('outcome_unknown');
    }
    expect(upstream.seen.length).toBe(seen);
    const verified = await auditVerify(auditFile);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
