// SPEC §18: deliveries are never lost by a gateway restart, and a dead or slow webhook never holds up a
// data-plane call (enqueueing is off the request's path; delivery is a background worker).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { openSession, refund } from '../helpers/approvals.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { ADMIN_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { startReceiver, status, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const SECRET = 'restart-hook-secret-0123456789';
const hooks = (...urls: string[]) =>
  `notifications:\n  webhooks:\n${urls.map((url) => `    - { url: "${url}", secret: "${SECRET}", events: [approval.request, session.revoke] }\n`).join('')}`;

describe('webhook outbox durability and isolation (SPEC §18)', () => {
  let upstream: TestUpstream;
  let receiver: WebhookReceiver;
  const gateways: TestGateway[] = [];

  beforeEach(async () => {
    upstream = await startUpstream();
    receiver = await startReceiver(SECRET);
  });
  afterEach(async () => {
    for (const g of gateways.splice(0)) await g.close();
    await receiver.close();
    await upstream.close();
  });

  it('a delivery pending when the gateway stops is delivered by the next start on the same SQLite file', async () => {
    const clock = new ManualClock(Date.now());
    receiver.answers.push(status(503));
    const first = await startTestGateway({ upstreamUrl: upstream.url, clock, extraConfig: hooks(receiver.url) });
    const s = await openSession(first.control);
    expect((await postJson(`${first.control}/v1/sessions/${s.session_id}/revoke`, {}, bearer(ADMIN_SECRET))).status).toBe(200);
    await first.gw.notifications.deliverNow();
    const [pending] = await first.gw.store.notifications.list({ state: 'pending' });
    expect(pending).toMatchObject({ event: 'session.revoke', attempts: 1, lastStatus: 503 });
    await first.close();

    clock.advance(3_600_000);
    const second = await startTestGateway({ upstreamUrl: upstream.url, clock, dir: first.dir, extraConfig: hooks(receiver.url) });
    gateways.push(second);
    await second.gw.notifications.deliverNow();
    expect(receiver.received.map((r) => [r.event, r.deliveryId, r.verified])).toEqual([
      ['session.revoke', pending!.deliveryId, true], ['session.revoke', pending!.deliveryId, true],
    ]);
    expect(await second.gw.store.notifications.get(pending!.deliveryId)).toMatchObject({ state: 'delivered', attempts: 2, lastStatus: 200 });
  });

  it('a webhook that hangs and one that refuses connections do not hold up data-plane calls', async () => {
    let hanging = false;
    let hangClosed = false;
    receiver.answers.push((_req, res) => {
      hanging = true;
      res.on('close', () => (hangClosed = true));
    });
    // Port 1 on loopback: nothing listens there, every attempt is refused.
    // A 60 s attempt timeout: a call that waited for the webhook could not answer while it is still open.
    const t = await startTestGateway({ upstreamUrl: upstream.url, extraConfig: hooks(receiver.url, 'http://127.0.0.1:1/dead'), notifications: { timeoutMs: 60_000 } });
    gateways.push(t);
    const victim = await openSession(t.control);
    expect((await postJson(`${t.control}/v1/sessions/${victim.session_id}/revoke`, {}, bearer(ADMIN_SECRET))).status).toBe(200);
    // Wait on the event, not the clock: the receiver holds the first delivery open.
    while (!hanging) await new Promise((resolve) => setImmediate(resolve));
    const s = await openSession(t.control);
    const answers = await Promise.all([
      call(`${t.data}/tools/billing/invoices/1`, { headers: bearer(s.token) }),
      refund(t.data, s.token),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 403]);
    // Answered while the first delivery is still open.
    expect([receiver.received.length, hangClosed]).toEqual([1, false]);
    // Nothing was delivered: the dead webhook's revoke is pending (or being retried), not lost.
    expect((await t.gw.store.notifications.list({ state: 'delivered' }))).toEqual([]);
  });
});
