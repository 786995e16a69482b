// One session's console page over real HTTP: its epochs (with the resume times of the injected clock),
// every checkpoint, and the recent audit records of that session only, read back from this gateway's audit
// file; everything an agent controls shown as text; and what the page says when it cannot read the file.
import { renameSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { ManualClock, rfc3339 } from '../../src/util/clock.js';
import { ADMIN_SECRET, AGENT_SECRET, startTestGateway, writeGatewayFiles, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { openSession } from '../helpers/approvals.js';
import { signIn } from '../helpers/console.js';
import { CONSOLE_CONFIG, HOSTILE, consolePolicy, hostileSession } from '../helpers/console-fixtures.js';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
const escape = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** The body rows of the table with this id, each as its cells' text (tags removed). */
function rows(page: string, id: string): string[][] {
  const table = new RegExp(`<table id="${id}">([\\s\\S]*?)</table>`).exec(page);
  if (!table) return [];
  const body = /<tbody>([\s\S]*)<\/tbody>/.exec(table[1]!)![1]!;
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1]!.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, '')));
}

describe('console session page: history', () => {
  let upstream: TestUpstream;
  let t: TestGateway;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestGateway({ upstreamUrl: upstream.url, policy: consolePolicy(), extraConfig: CONSOLE_CONFIG, clock });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  const resume = async (id: string, expected: number): Promise<string> => {
    const res = await postJson(`${t.control}/v1/sessions/${id}/resume`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, expected_epoch: expected });
    expect(res.status).toBe(200);
    return res.json.token as string;
  };
  const checkpoint = async (id: string, token: string, label: string): Promise<void> => {
    expect((await postJson(`${t.control}/v1/sessions/${id}/checkpoints`, { label, state: { label } }, bearer(token))).status).toBe(201);
  };

  it('lists epochs 1..3 with their times, every checkpoint, and only this session\'s audit records, as text', async () => {
    const s = await hostileSession(t.control);
    const other = await openSession(t.control);
    await checkpoint(s.session_id, s.token, `first ${HOSTILE.path}`);
    clock.advance(60_000);
    const second = await resume(s.session_id, 1);
    await checkpoint(s.session_id, second, 'second');
    clock.advance(60_000);
    const third = await resume(s.session_id, 2);
    await checkpoint(s.session_id, third, 'third');
    expect((await call(`${t.data}/tools/billing/invoices/mine`, { headers: bearer(third) })).status).toBe(200);
    expect((await call(`${t.data}/tools/billing/invoices/theirs`, { headers: bearer(other.token) })).status).toBe(200);

    const admin = await signIn(t.control, 'sec-admin', ADMIN_SECRET);
    const page = (await admin.get(`/console/sessions/${s.session_id}`)).text;
    const at = (ms: number) => rfc3339(ms);
    expect(rows(page, 'epochs')).toEqual([
      ['3 (current)', at(T0 + 120_000), 'resumed', 'billing, crm', 'billing-bot'],
      ['2', at(T0 + 60_000), 'resumed', 'billing, crm', 'billing-bot'],
      ['1', at(T0), 'created', 'billing, crm', 'billing-bot'],
    ]);
    expect(rows(page, 'checkpoints').map((r) => r.slice(0, 3))).toEqual([['3', '3', 'third'], ['2', '2', 'second'], ['1', '1', escape(`first ${HOSTILE.path}`)]]);
    const audit = rows(page, 'audit');
    expect(audit.map((r) => [r[1], r[4]])).toEqual([
      ['tool.call', '3'], ['session.checkpoint', '3'], ['session.resume', '3'], ['session.checkpoint', '2'],
      ['session.resume', '2'], ['session.checkpoint', '1'], ['session.create', '1'],
    ]);
    expect(audit[0]).toEqual([at(T0 + 120_000), 'tool.call', 'Read', 'ok', '3', 'billing-bot (agent)', 'billing', 'GET /tools/billing/invoices/mine']);
    expect(page).not.toContain('/invoices/theirs');
    expect(page).toContain('id="audit-scope"');
    expect(page).toContain('The whole file was searched.');
    // Markup planted by the agent: the task id, the metadata and a checkpoint label arrive as text only.
    for (const planted of [HOSTILE.task, HOSTILE.metadata, HOSTILE.path]) expect(page).not.toContain(planted);
    expect(page).toContain(escape(HOSTILE.task));
  });

  it('says so instead of failing the page when the audit file cannot be read', async () => {
    const s = await openSession(t.control);
    const admin = await signIn(t.control, 'sec-admin', ADMIN_SECRET);
    renameSync(t.auditFile, `${t.auditFile}.away`);
    try {
      const page = await admin.get(`/console/sessions/${s.session_id}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('<p id="audit-unavailable" class="error">Not shown: the audit file could not be read just now.</p>');
      expect(rows(page.text, 'epochs')).toHaveLength(1);
    } finally {
      renameSync(`${t.auditFile}.away`, t.auditFile);
    }
  });
});

describe('console session page with an injected audit log', () => {
  it('says the stream cannot be read back and still shows the rest of the page', async () => {
    const upstream = await startUpstream();
    const files = writeGatewayFiles({ upstreamUrl: upstream.url, policy: consolePolicy(), extraConfig: CONSOLE_CONFIG });
    const gw = await startGateway({
      config: loadConfig(files.configFile), logger: pino({ level: 'silent' }), audit: { write: () => {}, close: () => {} },
      watchPolicies: false, sweepIntervalMs: 3_600_000,
    });
    try {
      const s = await openSession(gw.controlUrl);
      const admin = await signIn(gw.controlUrl, 'sec-admin', ADMIN_SECRET);
      const page = await admin.get(`/console/sessions/${s.session_id}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('<p id="audit-unavailable">Not shown: this gateway writes its audit stream somewhere it cannot read back');
      expect(rows(page.text, 'epochs').map((r) => r[2])).toEqual(['created']);
    } finally {
      await gw.close(0);
      await upstream.close();
    }
  });
});
