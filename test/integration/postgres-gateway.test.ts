// The gateway on store.kind postgres, in process (SPEC §17, §14): sessions, resume and the ledger's replay
// work through PostgreSQL, and /readyz follows the database: 503 while it cannot be reached, 200 again as
// soon as it can, without a restart. The database is reached through a relay the test can cut.
import { readFileSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { AGENT_SECRET, defaultPolicy, writeGatewayFiles } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { freshPgSchema, type PgSchema } from '../helpers/postgres.js';
import { startPgProxy, type PgProxy } from '../helpers/postgres-proxy.js';

const CRED = { agent_id: 'billing-bot', client_secret: AGENT_SECRET };
const PAYMENTS = `
  - id: payments
    effect: allow
    roles: [billing-agent]
    tools: [billing]
    methods: [POST]
    paths: ["/payments/**"]
`;

describe('gateway on PostgreSQL', () => {
  let schema: PgSchema;
  let proxy: PgProxy;
  let upstream: TestUpstream;
  let gw: RunningGateway;
  let calls = 0;

  beforeAll(async () => {
    schema = await freshPgSchema('gw');
    proxy = await startPgProxy(schema.url);
    upstream = await startUpstream((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ n: ++calls }));
    });
    const files = writeGatewayFiles({ upstreamUrl: upstream.url, policy: defaultPolicy(PAYMENTS) });
    const text = readFileSync(files.configFile, 'utf8');
    const pgStore = `store:\n  kind: postgres\n  url: "${proxy.url}"\n  pool_size: 3\n`;
    writeFileSync(files.configFile, text.replace(/store:\n  kind: sqlite\n  path: [^\n]+\n/, pgStore));
    const config = loadConfig(files.configFile);
    expect(config.store).toMatchObject({ kind: 'postgres', poolSize: 3 });
    gw = await startGateway({ config, logger: pino({ level: 'silent' }), watchPolicies: false, sweepIntervalMs: 3_600_000 });
  });
  afterAll(async () => {
    await gw?.close(0);
    await upstream?.close();
    await proxy?.close();
    await schema?.drop();
  });

  it('creates, resumes and replays a side-effecting call from the ledger through PostgreSQL', async () => {
    expect(gw.store.kind).toBe('postgres');
    const created = await postJson(`${gw.controlUrl}/v1/sessions`, { ...CRED, task_id: 'pg-1' });
    expect(created.status).toBe(201);
    const first = await postJson(`${gw.dataUrl}/tools/billing/payments/a`, { amount: 5 }, bearer(created.json.token));
    expect(first.status).toBe(201);
    const resumed = await postJson(`${gw.controlUrl}/v1/sessions/${created.json.session_id}/resume`, CRED);
    expect(resumed.status).toBe(200);
    expect(resumed.json.epoch).toBe(2);
    const stale = await postJson(`${gw.dataUrl}/tools/billing/payments/a`, { amount: 5 }, bearer(created.json.token));
    expect(stale.status).toBe(401);
    const replayed = await postJson(`${gw.dataUrl}/tools/billing/payments/a`, { amount: 5 }, bearer(resumed.json.token));
    expect(replayed.status).toBe(201);
    expect(replayed.json).toEqual(first.json);
    expect(calls).toBe(1);
  });

  it('answers /readyz 503 while the database is unreachable and 200 again once it is back', async () => {
    expect((await call(`${gw.controlUrl}/readyz`)).status).toBe(200);
    await proxy.cut();
    const down = await call(`${gw.controlUrl}/readyz`);
    expect(down.status).toBe(503);
    expect(down.json).toEqual({ status: 'store_unavailable' });
    const created = await postJson(`${gw.controlUrl}/v1/sessions`, { ...CRED, task_id: 'pg-down' });
    expect(created.status).toBe(503);
    expect(created.json.code).toBe('store_unavailable');
    await proxy.restore();
    expect((await call(`${gw.dataUrl}/readyz`)).status).toBe(200);
    expect((await postJson(`${gw.controlUrl}/v1/sessions`, { ...CRED, task_id: 'pg-up' })).status).toBe(201);
  });
});
