// Durability across kill -9 (SPEC §1: a restart changes nothing a client can observe): the built CLI is
// killed without warning and restarted on the same SQLite file.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway, type SpawnedGateway } from '../../src/demo/spawn-gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { writeGatewayFiles } from '../helpers/gateway.js';
import { jwtAgent, type JwtAgent } from '../helpers/jwt-agent.js';
import { bearer, call, postJson } from '../helpers/client.js';

describe('e2e: kill -9 and restart on the same SQLite file', () => {
  let upstream: TestUpstream;
  let gateway: SpawnedGateway | undefined;
  let configFile: string;
  let agent: JwtAgent;

  beforeAll(async () => {
    upstream = await startUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'epochgate-e2e-'));
    agent = await jwtAgent(dir);
    ({ configFile } = writeGatewayFiles({ upstreamUrl: upstream.url, policy: agent.policy, dir, logLevel: 'info' }));
    gateway = await spawnGateway(configFile);
  });

  afterAll(async () => {
    await gateway?.stop('SIGKILL');
    await upstream.close();
  });

  const assertion = (jti: string) => agent.assertion(jti);

  it('keeps fencing, checkpoints and used assertion ids after a crash', async () => {
    const first = gateway!;
    const usedAssertion = await assertion('jti-e2e-1');
    const created = await postJson(`${first.controlUrl}/v1/sessions`, { agent_id: 'billing-bot', client_assertion: usedAssertion, task_id: 'e2e-task' });
    expect(created.status).toBe(201);
    const { session_id: sessionId, token: oldToken } = created.json;
    expect((await call(`${first.dataUrl}/tools/billing/invoices/1`, { headers: bearer(oldToken) })).status).toBe(200);
    const checkpoint = await postJson(`${first.controlUrl}/v1/sessions/${sessionId}/checkpoints`, { label: 'step-1', state: { done: ['invoice-1'] } }, bearer(oldToken));
    expect(checkpoint.status).toBe(201);

    // kill -9: no shutdown handler runs.
    expect(await first.stop('SIGKILL')).toBeNull();
    gateway = await spawnGateway(configFile);
    const second = gateway;

    // The used jti is still refused by the new process.
    const replay = await postJson(`${second.controlUrl}/v1/sessions`, { agent_id: 'billing-bot', client_assertion: usedAssertion, task_id: 'other-task' });
    expect(replay.status).toBe(401);
    expect(replay.json.code).toBe('assertion_replayed');

    // The session and its checkpoint survived; resume moves to epoch 2 and returns the checkpoint.
    const resumed = await postJson(`${second.controlUrl}/v1/sessions/${sessionId}/resume`, {
      agent_id: 'billing-bot',
      client_assertion: await assertion('jti-e2e-2'),
      expected_epoch: 1,
    });
    expect(resumed.status).toBe(200);
    expect(resumed.json.epoch).toBe(2);
    expect(resumed.json.previous_epoch).toBe(1);
    expect(resumed.json.checkpoint).toMatchObject({ seq: 1, label: 'step-1', state: { done: ['invoice-1'] }, state_digest: checkpoint.json.state_digest });

    // The epoch-1 token is fenced off; the epoch-2 token works.
    const stale = await call(`${second.dataUrl}/tools/billing/invoices/1`, { headers: bearer(oldToken) });
    expect(stale.status).toBe(401);
    expect(stale.json.code).toBe('session_stale_epoch');
    const fresh = await call(`${second.dataUrl}/tools/billing/invoices/1`, { headers: bearer(resumed.json.token) });
    expect(fresh.status).toBe(200);
    expect(upstream.seen.at(-1)!.headers['x-epochgate-epoch']).toBe('2');
  });

  it('drains and exits 0 on SIGTERM', async () => {
    expect(await gateway!.stop('SIGTERM')).toBe(0);
  });
});
