// SPEC §18 "never lost by a gateway restart", the hard way: the built CLI is killed with SIGKILL while a
// delivery is pending (its first attempt answered 503), restarted on the same SQLite file, and the new
// process delivers it, signed, under the same delivery id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway, type SpawnedGateway } from '../../src/demo/spawn-gateway.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { ADMIN_SECRET, AGENT_SECRET, writeGatewayFiles } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { startReceiver, status, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const SECRET = 'e2e-hook-secret-0123456789';

/** Re-asks the control plane until the condition holds (the state lives in another process). */
async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('e2e: kill -9 with a pending webhook delivery', () => {
  let upstream: TestUpstream;
  let receiver: WebhookReceiver;
  let gateway: SpawnedGateway | undefined;

  beforeAll(async () => {
    upstream = await startUpstream();
    receiver = await startReceiver(SECRET);
  });
  afterAll(async () => {
    await gateway?.stop('SIGKILL');
    await receiver.close();
    await upstream.close();
  });

  it('delivers after the restart what the killed process had not', { timeout: 45_000 }, async () => {
    receiver.answers.push(status(503));
    const extraConfig = `notifications:\n  webhooks:\n    - { url: "${receiver.url}", secret: "${SECRET}", events: [session.revoke] }\n`;
    const { configFile } = writeGatewayFiles({ upstreamUrl: upstream.url, logLevel: 'info', extraConfig });
    gateway = await spawnGateway(configFile);
    const created = await postJson(`${gateway.controlUrl}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: 'kill9-hook' });
    expect(created.status).toBe(201);
    expect((await postJson(`${gateway.controlUrl}/v1/sessions/${created.json.session_id}/revoke`, {}, bearer(ADMIN_SECRET))).status).toBe(200);
    await receiver.until(1, 10_000);
    // Killed once the 503 is recorded (pending, due again in about 10 s); GET /v1/notifications shows it.
    const started = gateway;
    await until(async () => (await call(`${started.controlUrl}/v1/notifications?state=pending`, { headers: bearer(ADMIN_SECRET) })).json.deliveries[0]?.last_status === 503);
    expect(await gateway.stop('SIGKILL')).toBeNull();

    gateway = await spawnGateway(configFile);
    // The retry is due 8–12 s after the first attempt (10 s ± 20 %).
    await receiver.until(2, 30_000);
    const [first, second] = receiver.received;
    expect([first!.event, first!.verified, second!.event, second!.verified]).toEqual(['session.revoke', true, 'session.revoke', true]);
    expect(second!.deliveryId).toBe(first!.deliveryId);
    expect(second!.json).toEqual(first!.json);
  });
});
