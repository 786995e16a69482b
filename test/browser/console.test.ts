// The approver console in real headless Chromium: sign-in, the live inbox, the approval page showing the
// exact arguments, approve and deny releasing a held call, agent text that never runs, separation of
// duties, CSRF and sign-out, the inbox reconnecting after its stream drops, and an admin's session page.
// Screenshots of the inbox, the approval page and a session page go to test-results/console/.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_SECRET, AGENT_SECRET, APPROVER_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, postJson } from '../helpers/client.js';
import { openSession, refund } from '../helpers/approvals.js';
import { startPgProxy } from '../helpers/postgres-proxy.js';
import { launchBrowser, SCREENSHOTS, type TestBrowser } from '../helpers/browser.js';
import { CONSOLE_CONFIG, HOSTILE, consolePolicy, hostileCall, hostileMcpCall, hostileSession } from '../helpers/console-fixtures.js';

const SLOW = 60_000;

describe('approver console in headless Chromium', () => {
  let upstream: TestUpstream;
  let t: TestGateway;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestGateway({ upstreamUrl: upstream.url, policy: consolePolicy('60s'), extraConfig: CONSOLE_CONFIG });
    browser = await launchBrowser();
    page = browser.page;
  }, SLOW);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await upstream?.close();
  }, SLOW);

  const signInAs = async (person: string, secret: string): Promise<void> => {
    // From a signed-out browser: a signed-in one is sent from the sign-in page to its inbox.
    await browser.context.clearCookies();
    await page.goto(`${t.control}/console/sign-in`);
    await page.getByLabel('Person id').fill(person);
    await page.getByLabel('Secret').fill(secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  /** The token agents' pages would need to forge a decision: the signed-in page's CSRF token. */
  const csrfOnPage = () => page.locator('input[name="csrf"]').first().inputValue();

  it('refuses a wrong secret, then signs alice in to her inbox', async () => {
    await signInAs('alice', 'not-the-secret-0123456789');
    await expect.poll(() => page.locator('#sign-in-error').textContent()).toBe('The person id or secret is not correct.');
    expect(page.url()).toBe(`${t.control}/console/sign-in`);
    expect(await page.getByLabel('Secret').inputValue()).toBe('');
    await signInAs('alice', APPROVER_SECRET);
    await page.waitForURL(`${t.control}/console/`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Inbox');
    // Keyboard: the first Tab lands on the skip link.
    await page.keyboard.press('Tab');
    // Page-side code is passed as text: the test program is compiled without the DOM library.
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Skip to content');
  }, SLOW);

  it('shows a new pending approval in the open inbox without a reload; approving releases the held call', async () => {
    await page.goto(`${t.control}/console/`);
    await page.locator('body[data-live="on"]').waitFor();
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    const s = await openSession(t.control);
    const body = '{"amount":125.5,"invoice":"INV-77","lines":[{"sku":"A","qty":2}]}';
    const held = refund(t.data, s.token, '/held/refunds', body);
    const row = page.locator('#inbox tbody tr', { hasText: 'POST billing /held/refunds' });
    await row.waitFor({ timeout: 15_000 });
    expect(navigations).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, 'inbox.png'), fullPage: true });
    await row.getByRole('link').click();
    await page.locator('#body-preview').waitFor();
    expect(JSON.parse((await page.locator('#body-preview').textContent())!)).toEqual(JSON.parse(body));
    expect(await page.locator('#body-preview').textContent()).toBe(JSON.stringify(JSON.parse(body), null, 2));
    await page.screenshot({ path: join(SCREENSHOTS, 'approval.png'), fullPage: true });
    await page.setViewportSize({ width: 360, height: 800 });
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await page.screenshot({ path: join(SCREENSHOTS, 'approval-360.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByLabel('Comment (optional)').fill('matches invoice INV-77');
    await page.getByRole('button', { name: 'Approve' }).click();
    const answer = await held;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.json.body)).toEqual(JSON.parse(body));
    await expect.poll(() => page.reload().then(() => page.locator('#approval-state').textContent())).toBe('consumed');
    expect(await page.locator('#revalidation').textContent()).toContain('passed re-validation in epoch 1');
  }, SLOW);

  it('denying releases the held call with approval_denied', async () => {
    await page.goto(`${t.control}/console/`);
    await page.locator('body[data-live="on"]').waitFor();
    const s = await openSession(t.control);
    const held = refund(t.data, s.token, '/held/deny-me', '{"amount":9999}');
    const row = page.locator('#inbox tbody tr', { hasText: '/held/deny-me' });
    await row.waitFor({ timeout: 15_000 });
    await row.getByRole('link').click();
    await page.getByRole('button', { name: 'Deny' }).click();
    const answer = await held;
    expect([answer.status, answer.json.code]).toEqual([403, 'approval_denied']);
    expect(await page.locator('#approval-state').textContent()).toBe('denied');
    // Decided items leave the open inbox without a reload.
    await page.goto(`${t.control}/console/`);
    expect(await page.locator('#inbox tbody tr', { hasText: '/held/deny-me' }).count()).toBe(0);
  }, SLOW);

  it('shows what an agent sent as text: nothing runs, in the live inbox or on the approval pages', async () => {
    await page.goto(`${t.control}/console/`);
    await page.locator('body[data-live="on"]').waitFor();
    const s = await hostileSession(t.control);
    const http = await hostileCall(t.data, s.token);
    const mcp = await hostileMcpCall(t.data, s.token);
    const mcpId = mcp.json.result._meta['io.epochgate/problem'].approval_id as string;
    await page.locator('#inbox tbody tr', { hasText: HOSTILE.mcpTool }).waitFor({ timeout: 15_000 });
    expect(await page.locator('#inbox tbody').textContent()).toContain(HOSTILE.path);
    await assertNothingRan(page);
    await page.goto(`${t.control}/console/approvals/${http.json.approval_id}`);
    const text = (await page.locator('main').textContent())!;
    for (const planted of [HOSTILE.path, HOSTILE.query, HOSTILE.task]) expect(text).toContain(planted);
    expect(JSON.parse((await page.locator('#body-preview').textContent())!).note).toBe(HOSTILE.body);
    expect(JSON.parse((await page.locator('#metadata').textContent())!).note).toBe(HOSTILE.metadata);
    await assertNothingRan(page);
    await page.goto(`${t.control}/console/approvals/${mcpId}`);
    expect(await page.locator('dd', { hasText: HOSTILE.mcpTool }).count()).toBeGreaterThan(0);
    expect(JSON.parse((await page.locator('#arguments').textContent())!)).toEqual({ memo: HOSTILE.mcpArgument });
    await assertNothingRan(page);
    expect(browser.messages.filter((m) => /Content Security Policy|Refused/.test(m))).toEqual([]);
  }, SLOW);

  it('refuses a POST without the CSRF token, and sign-out ends the session', async () => {
    const s = await openSession(t.control);
    const pending = await refund(t.data, s.token);
    const id = pending.json.approval_id as string;
    const noToken = await page.request.post(`${t.control}/console/approvals/${id}/approve`, { form: { comment: 'forged' }, maxRedirects: 0 });
    expect(noToken.status()).toBe(403);
    const cookies = await browser.context.cookies(`${t.control}/console/`);
    const session = cookies.find((c) => c.name === 'epochgate_console')!;
    expect([session.httpOnly, session.sameSite, session.path]).toEqual([true, 'Strict', '/console/']);
    await page.goto(`${t.control}/console/`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${t.control}/console/sign-in`);
    const replay = await page.request.get(`${t.control}/console/`, { headers: { cookie: `epochgate_console=${session.value}` }, maxRedirects: 0 });
    expect([replay.status(), replay.headers().location]).toEqual([303, '/console/sign-in']);
  }, SLOW);

  it('says "reconnecting…" while the live stream is cut, then clears it and shows what arrived meanwhile', async () => {
    // A TCP relay in front of the control listener (the helper is the one the PostgreSQL tests cut): cutting
    // it drops the open event stream the way a restart or a proxy would, and refuses new connections.
    const relay = await startPgProxy(t.control);
    const base = relay.url.replace(/\/$/, '');
    try {
      await signInAs('alice', APPROVER_SECRET);
      await page.waitForURL(`${t.control}/console/`);
      await page.goto(`${base}/console/`);
      await page.locator('body[data-live="on"]').waitFor();
      await relay.cut();
      await page.locator('body[data-live="reconnecting"]').waitFor({ timeout: 15_000 });
      expect(await page.locator('#live-status[aria-live="polite"]').textContent()).toBe('Live updates interrupted; reconnecting…');
      const s = await openSession(t.control);
      const asked = await refund(t.data, s.token, '/refunds', '{"amount":3,"while":"offline"}');
      expect(await page.locator(`#inbox tbody tr[data-approval-id="${asked.json.approval_id}"]`).count()).toBe(0);
      await relay.restore();
      await page.locator('body[data-live="on"]').waitFor({ timeout: 15_000 });
      await page.locator(`#inbox tbody tr[data-approval-id="${asked.json.approval_id}"]`).waitFor();
      expect(await page.locator('#live-status').textContent()).toMatch(/^\d+ pending$/);
    } finally {
      await relay.close();
    }
  }, SLOW);

  it('shows an admin a session\'s history: epochs, checkpoints and its audit records', async () => {
    const s = await openSession(t.control);
    const cred = { agent_id: 'billing-bot', client_secret: AGENT_SECRET };
    const resumed = await postJson(`${t.control}/v1/sessions/${s.session_id}/resume`, { ...cred, expected_epoch: 1 });
    await postJson(`${t.control}/v1/sessions/${s.session_id}/checkpoints`, { label: 'half-way', state: { n: 1 } }, bearer(resumed.json.token));
    await signInAs('sec-admin', ADMIN_SECRET);
    await page.waitForURL(`${t.control}/console/`);
    await page.goto(`${t.control}/console/sessions/${s.session_id}`);
    expect(await page.locator('#epochs tbody tr').count()).toBe(2);
    expect(await page.locator('#checkpoints tbody tr').textContent()).toContain('half-way');
    expect(await page.locator('#audit tbody tr').count()).toBe(3);
    await page.screenshot({ path: join(SCREENSHOTS, 'session.png'), fullPage: true });
  }, SLOW);

  it('shows an admin who is not an approver no approve button, and refuses their forged approve', async () => {
    const s = await openSession(t.control);
    const id = (await refund(t.data, s.token)).json.approval_id as string;
    await signInAs('sec-admin', ADMIN_SECRET);
    await page.waitForURL(`${t.control}/console/`);
    await page.goto(`${t.control}/console/approvals/${id}`);
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await page.locator('#no-decision').count()).toBe(1);
    const forged = await page.request.post(`${t.control}/console/approvals/${id}/approve`, { form: { csrf: await csrfOnPage() }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);
    await page.goto(`${t.control}/console/approvals/${id}`);
    expect(await page.locator('#approval-state').textContent()).toBe('pending');
  }, SLOW);
});

/** Nothing planted ran: no flag set, no element of the planted kinds, only our own script. */
async function assertNothingRan(page: Page): Promise<void> {
  const found = await page.evaluate(`({
    pwned: window.__pwned === undefined ? null : window.__pwned,
    scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
    planted: document.querySelectorAll('img, svg, iframe, b#hostile-body').length,
  })`);
  expect(found).toEqual({ pwned: null, scripts: ['/console/assets/console.js'], planted: 0 });
}
