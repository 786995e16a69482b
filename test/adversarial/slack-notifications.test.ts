// Agent-chosen text in a `format: slack` notification: a held call whose path carries Slack markup (bold,
// strike-through, code, a channel mention, a link) and runs to thousands of characters. The delivery that
// reaches the receiver keeps every agent-chosen text in `plain_text` (shown as written), mentions and links
// escaped, and each text clipped under Slack's limits, so the message is neither a vehicle for markup nor
// rejected (and retried for a day) for its size.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalPolicy, openSession, refund } from '../helpers/approvals.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const SECRET = 'slack-hook-secret-for-tests-0123456789';
const HOSTILE = `/payroll/*bold*_it_~strike~%60code%60%3C!channel%3E%3Chttps:evil.example%7Cclick%3E/${'x'.repeat(3000)}`;

let upstream: TestUpstream;
let receiver: WebhookReceiver;
let t: TestGateway;

beforeAll(async () => {
  process.env.SLACK_HOOK_SECRET = SECRET;
  upstream = await startUpstream();
  receiver = await startReceiver(SECRET);
  const hooks = `notifications:\n  webhooks:\n    - url: "${receiver.url}"\n      secret: "\${SLACK_HOOK_SECRET}"\n      events: [approval.request]\n      format: slack\n`;
  t = await startTestGateway({ upstreamUrl: upstream.url, policy: approvalPolicy(), extraConfig: hooks });
});
afterAll(async () => {
  await t?.close();
  await receiver?.close();
  await upstream?.close();
  delete process.env.SLACK_HOOK_SECRET;
});

interface TextObject {
  type: string;
  text: string;
  emoji?: boolean;
}

describe('a Slack notification of a hostile path', () => {
  it('is delivered signed, with the path as clipped plain text and no mention or link', async () => {
    const s = await openSession(t.control);
    const held = await refund(t.data, s.token, HOSTILE);
    expect([held.status, held.json.code]).toEqual([403, 'approval_required']);
    await t.gw.notifications.deliverNow();
    expect(receiver.received.map((h) => [h.event, h.verified])).toEqual([['approval.request', true]]);

    const body = receiver.received[0]!.json as { text: string; blocks: { type: string; text?: TextObject; fields?: TextObject[] }[] };
    expect(Object.keys(body)).toEqual(['text', 'blocks']);
    const [headline, facts] = body.blocks as unknown as [{ text: TextObject }, { fields: TextObject[] }];
    const agentTexts = [headline.text, ...facts.fields];
    expect(agentTexts.map((o) => [o.type, o.emoji])).toEqual(agentTexts.map(() => ['plain_text', false]));
    expect(agentTexts.every((o) => o.text.length <= 1000)).toBe(true);
    // The path as the gateway decoded it, markup as written, Slack's control characters escaped, then clipped.
    const shown = 'Approval requested: POST billing /payroll/*bold*_it_~strike~`code`&lt;!channel&gt;&lt;https:evil.example|click&gt;/';
    expect(headline.text.text).toBe(`${shown}${'x'.repeat(999 - shown.length)}…`);
    expect(facts.fields.map((f) => f.text.split(':', 1)[0])).toEqual(['Action', 'Agent', 'Task', 'Session', 'Rule', 'Expires']);
    const raw = receiver.received[0]!.body;
    expect([raw.includes('<!channel>'), raw.includes('<https:evil'), body.text.length <= 1100]).toEqual([false, false, true]);
  });
});
