// Webhook notifications (SPEC §18): the signature, the retry schedule, what a payload may carry, and which
// audit records notify.
import { webcrypto } from 'node:crypto';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/types.js';
import { afterFailure, FIRST_RETRY_MS, MAX_RETRY_MS, retryDelayMs, RETRY_WINDOW_MS } from '../../src/notify/backoff.js';
import { describeNotification } from '../../src/notify/describe.js';
import { notificationFacts } from '../../src/notify/events.js';
import { Notifier } from '../../src/notify/notifier.js';
import { jsonPayload, slackPayload } from '../../src/notify/payload.js';
import { signatureHeader } from '../../src/notify/signature.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { session } from '../contract/store-contract.js';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

/** The receiver's check, with WebCrypto: an implementation independent of the gateway's node:crypto HMAC. */
async function verify(secret: string, header: string, body: string): Promise<boolean> {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const key = await webcrypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const mac = Uint8Array.from(Buffer.from(match[2]!, 'hex'));
  return webcrypto.subtle.verify('HMAC', key, mac, new TextEncoder().encode(`${match[1]}.${body}`));
}

describe('X-Epochgate-Signature', () => {
  it('is t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>"> (known vector)', () => {
    expect(signatureHeader('whsec_test', '{"event":"approval.request"}', 1_764_590_400)).toBe(
      't=1764590400,v1=e887a408107ef9eae27d454a6f34b1a5d979e30fe9b28f1c695cf155d62a0308',
    );
  });

  it('verifies with an independent HMAC implementation, and fails for another secret, body or time', async () => {
    const body = '{"event":"session.revoke","delivery_id":"dlv_x"}';
    const header = signatureHeader('s3cret', body, 1_764_590_401);
    expect(await verify('s3cret', header, body)).toBe(true);
    expect(await verify('other', header, body)).toBe(false);
    expect(await verify('s3cret', header, body.replace('revoke', 'create'))).toBe(false);
    expect(await verify('s3cret', header.replace('t=1764590401', 't=1764590402'), body)).toBe(false);
  });
});

describe('retry schedule', () => {
  it('doubles from 10 s to at most 1 h, jittered by ±20 %', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 9, 10, 40].map((n) => retryDelayMs(n, mid))).toEqual([10_000, 20_000, 40_000, 2_560_000, MAX_RETRY_MS, MAX_RETRY_MS]);
    expect(retryDelayMs(1, () => 0)).toBe(FIRST_RETRY_MS * 0.8);
    expect(retryDelayMs(1, () => 0.999_999)).toBe(12_000);
  });

  it('retries for 24 h with an injected clock: 33 attempts, the last at the 24 h mark, then gives up', () => {
    const clock = new ManualClock(T0);
    const delivery = { attempts: 0, giveUpAt: T0 + RETRY_WINDOW_MS };
    const times: number[] = [];
    for (;;) {
      delivery.attempts += 1;
      times.push(clock.now() - T0);
      const next = afterFailure(delivery, clock.now(), () => 0.5);
      if (next.kind === 'failed') break;
      clock.set(next.nextAttemptAt);
    }
    expect(times.slice(0, 10).map((ms) => ms / 1000)).toEqual([0, 10, 30, 70, 150, 310, 630, 1270, 2550, 5110]);
    expect(times[10]! - times[9]!).toBe(MAX_RETRY_MS);
    expect(times).toHaveLength(33);
    expect(times.at(-1)).toBe(RETRY_WINDOW_MS);
  });
});

describe('which audit records notify', () => {
  const base = { time: T0, sessionId: 'ses_a' } as const;
  it('maps a successful approval or revoke, and ledger.unknown with its outcome_unknown status', () => {
    const approve: AuditEvent = { ...base, event: 'approval.approve', status: 'ok', actor: { id: 'alice', type: 'person' }, extra: { approval_id: 'apr_1' } };
    expect(notificationFacts(approve)).toEqual({ event: 'approval.approve', occurredAt: T0, sessionId: 'ses_a', approvalId: 'apr_1', personId: 'alice', ledger: null });
    const unknown: AuditEvent = { ...base, event: 'ledger.unknown', status: 'outcome_unknown', tool: 'billing', extra: { entry_id: 'led_1', reason: 'replica_stopped', http_method: 'POST', tool_path: '/refunds' } };
    expect(notificationFacts(unknown)?.ledger).toEqual({ entryId: 'led_1', reason: 'replica_stopped', tool: 'billing', method: 'POST', path: '/refunds', mcpTool: null });
  });

  it('ignores refused actions and events no webhook can subscribe to', () => {
    expect(notificationFacts({ ...base, event: 'approval.approve', status: 'forbidden', extra: { approval_id: 'apr_1' } })).toBeNull();
    expect(notificationFacts({ ...base, event: 'session.revoke', status: 'session_not_found' })).toBeNull();
    expect(notificationFacts({ ...base, event: 'approval.consume', status: 'ok' })).toBeNull();
    expect(notificationFacts({ ...base, event: 'tool.call', status: 'ok' })).toBeNull();
  });
});

describe('payloads', () => {
  const SECRETS = ['WEBHOOK-SECRET', 'BODY-SECRET', 'QUERY-SECRET', 'COMMENT-SECRET', 'TOKEN-JTI-SECRET'];

  async function storeWithApproval(): Promise<MemoryStore> {
    const store = new MemoryStore();
    await store.sessions.create(session({ sessionId: 'ses_a', taskId: 'task-7', agentId: 'billing-bot', createdAt: T0, leaseExpiresAt: T0 + 60_000 }));
    await store.approvals.findOrCreatePending({
      approvalId: 'apr_1', sessionId: 'ses_a', agentId: 'billing-bot', digest: 'd'.repeat(64), ruleId: 'refunds-need-approval',
      approverRoles: ['finance-approver'],
      action: { tool: 'billing', method: 'POST', path: '/refunds', query: '?token=QUERY-SECRET', mcpTool: null },
      bodyPreview: Buffer.from('{"card":"BODY-SECRET"}'), bodySize: 22, bodySha256: 'e'.repeat(64), ttlMs: 3_600_000,
      requestedEpoch: 1, requestId: 'req_1', createdAt: T0,
    });
    await store.approvals.decide('apr_1', { state: 'approved', decidedBy: 'alice', comment: 'COMMENT-SECRET', now: T0 + 10 });
    return store;
  }
  const approveRecord: AuditEvent = {
    event: 'approval.approve', time: T0 + 10, status: 'ok', sessionId: 'ses_a', tokenJti: 'TOKEN-JTI-SECRET',
    actor: { id: 'alice', type: 'person' }, extra: { approval_id: 'apr_1' },
  };

  it('JSON: ids, agent, task, action, rule and times an approver may see; approval_url only with the console enabled', async () => {
    const details = await describeNotification(await storeWithApproval(), notificationFacts(approveRecord)!);
    const link = { baseUrl: 'https://gw.example/console', enabled: true };
    expect(jsonPayload(details, 'dlv_1', link)).toEqual({
      event: 'approval.approve', delivery_id: 'dlv_1', occurred_at: '2026-12-01T12:00:00.010Z',
      session_id: 'ses_a', agent_id: 'billing-bot', task_id: 'task-7', epoch: 1,
      tool: 'billing', method: 'POST', path: '/refunds', approval_id: 'apr_1', rule_id: 'refunds-need-approval',
      expires_at: '2026-12-01T13:00:00.010Z', decided_by: 'alice', approval_url: 'https://gw.example/console/approvals/apr_1',
    });
    expect(jsonPayload(details, 'dlv_1', { ...link, enabled: false })).not.toHaveProperty('approval_url');
  });

  it('what the notifier stores carries no secret, token, query, comment or body, in either format', async () => {
    const store = await storeWithApproval();
    const webhooks = (['json', 'slack'] as const).map((format) => ({
      url: `https://hooks.example/${format}?key=QUERY-SECRET`, secret: 'WEBHOOK-SECRET', events: ['approval.approve'] as const, format,
    }));
    const notifier = new Notifier({ store, webhooks, clock: new ManualClock(T0 + 20), logger: pino({ level: 'silent' }), consoleLink: () => ({ baseUrl: 'http://127.0.0.1:1/console', enabled: true }) });
    notifier.observe(approveRecord);
    await notifier.flush();
    const stored = await store.notifications.list({});
    expect(stored.map((d) => [d.event, d.state, d.giveUpAt - d.createdAt])).toEqual([
      ['approval.approve', 'pending', RETRY_WINDOW_MS], ['approval.approve', 'pending', RETRY_WINDOW_MS],
    ]);
    for (const d of stored) for (const secret of SECRETS) expect(d.payload).not.toContain(secret);
    const slack = JSON.parse(stored.find((d) => d.url.includes('slack'))!.payload);
    expect(Object.keys(slack)).toEqual(['text', 'blocks']);
    expect(JSON.stringify(slack)).toContain('<http://127.0.0.1:1/console/approvals/apr_1|Open in the epochgate console>');
  });

  it('Slack: agent-chosen text cannot become a link or a mention', () => {
    const details = { event: 'ledger.unknown', occurredAt: T0, method: 'POST', tool: 'billing', path: '/x/<!channel>/<https://evil|click>', entryId: 'led_1' };
    const text = JSON.stringify(slackPayload(details, 'dlv_1', { baseUrl: 'https://gw/console', enabled: false }));
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<https://evil');
    expect(text).toContain('/x/&lt;!channel&gt;/&lt;https://evil|click&gt;');
  });

  it('Slack: agent-chosen text is plain text (no formatting), clipped whole escapes and all', () => {
    const path = `/*bold*/_it_/~strike~/\`code\`/${'&'.repeat(400)}`;
    const details = { event: 'approval.request', occurredAt: T0, method: 'POST', tool: 'billing', path, taskId: '*urgent*', approvalId: 'apr 1' };
    const payload = slackPayload(details, 'dlv_1', { baseUrl: 'https://gw/console', enabled: true }) as { text: string; blocks: Record<string, unknown>[] };
    const [headline, facts, context] = payload.blocks as [{ text: { type: string; text: string; emoji: boolean } }, { fields: { type: string; text: string; emoji: boolean }[] }, unknown];
    const escapedPath = path.replaceAll('&', '&amp;');
    const clipped = `Approval requested: POST billing ${escapedPath}`.slice(0, 999).replace(/&[a-z]{0,3}$/, '') + '…';
    expect(headline.text).toEqual({ type: 'plain_text', text: clipped, emoji: false });
    expect(clipped.length).toBeLessThanOrEqual(1000);
    expect(clipped.endsWith('&amp;…')).toBe(true);
    expect(facts.fields.map((f) => [f.type, f.emoji, f.text.slice(0, 40)])).toEqual([
      ['plain_text', false, `Action: POST billing ${escapedPath}`.slice(0, 40)], ['plain_text', false, 'Task: *urgent*'],
    ]);
    expect(context).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: '<https://gw/console/approvals/apr%201|Open in the epochgate console> · dlv_1' }] });
    expect(payload.text).toBe(`epochgate: ${clipped} https://gw/console/approvals/apr%201`);
    expect(payload.blocks).toHaveLength(3);
  });

  it('an enqueue that fails is counted and never thrown at the caller', async () => {
    const store = new MemoryStore();
    await store.close();
    const errors: unknown[] = [];
    const hook = { url: 'https://h.example/', secret: 's', events: ['session.revoke'] as const, format: 'json' as const };
    const notifier = new Notifier({ store, webhooks: [hook], clock: new ManualClock(T0), logger: pino({ level: 'silent' }), consoleLink: () => ({ baseUrl: 'x', enabled: false }), onError: (e) => errors.push(e) });
    expect(() => notifier.observe({ event: 'session.revoke', time: T0, status: 'ok', sessionId: 'ses_a' })).not.toThrow();
    await notifier.flush();
    expect(errors).toEqual([expect.objectContaining({ code: 'store_unavailable' })]);
  });
});
