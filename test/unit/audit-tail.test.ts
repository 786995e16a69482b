// Reading a session's records back from the tail of the audit file: newest first, only that session, at
// most N, never further back than the window, and every line that is not such a record skipped.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSessionAuditTail, summarise } from '../../src/audit/audit-tail.js';
import { openAuditLog } from '../../src/audit/file-audit-log.js';
import type { AuditEvent } from '../../src/audit/types.js';

const dir = mkdtempSync(join(tmpdir(), 'epochgate-tail-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
let files = 0;

const call = (sessionId: string, i: number, over: Partial<AuditEvent> = {}): AuditEvent => ({
  event: 'tool.call', time: T0 + i, requestId: `req_${i}`, status: 'ok', actor: { id: 'billing-bot', type: 'agent' },
  sessionId, epoch: 2, tool: 'billing', method: 'POST', path: `/invoices/${i}`, extra: { mcp_tool: 'refund' }, ...over,
});

/** A file with `events` written by the real writer, and `raw` text appended after them. */
function auditFile(events: AuditEvent[], raw = ''): string {
  const file = join(dir, `audit-${++files}.log`);
  const log = openAuditLog({ path: file, productVersion: '0.1.0', chainUid: 'chn_t' });
  for (const e of events) log.write(e);
  log.close();
  if (raw !== '') appendFileSync(file, raw);
  return file;
}

const WIDE = { maxBytes: 4 * 1024 * 1024, maxRecords: 50 };

describe('readSessionAuditTail', () => {
  it('returns the session\'s records newest first with time, event, activity, status, epoch, actor and call', async () => {
    const file = auditFile([call('ses_a', 1), call('ses_b', 2), call('ses_a', 3, { status: 'policy_denied', method: 'DELETE' })]);
    const tail = await readSessionAuditTail(file, 'ses_a', WIDE);
    expect(tail).toEqual({
      wholeFile: true,
      records: [
        { time: T0 + 3, event: 'tool.call', activityId: 4, status: 'policy_denied', epoch: 2, actor: 'billing-bot', actorType: 'agent', method: 'DELETE', path: '/invoices/3', tool: 'billing', mcpTool: 'refund' },
        { time: T0 + 1, event: 'tool.call', activityId: 1, status: 'ok', epoch: 2, actor: 'billing-bot', actorType: 'agent', method: 'POST', path: '/invoices/1', tool: 'billing', mcpTool: 'refund' },
      ],
    });
  });

  it('skips torn, foreign and mistyped lines without throwing', async () => {
    const foreign = [
      'not json at all', '{"actor":{"session":{"uid":"ses_a"}}', '[1,2,"ses_a"]', '"ses_a"',
      JSON.stringify({ time: 1e300, status_code: 'ok', actor: { session: { uid: 'ses_a' } }, api: { operation: 'x' } }),
      JSON.stringify({ time: 'yesterday', status_code: 'ok', actor: { session: { uid: 'ses_a' } }, api: { operation: 'x' } }),
      JSON.stringify({ time: 1, status_code: 'ok', actor: { session: { uid: 'ses_ab' } }, api: { operation: 'x' }, note: '"ses_a"' }),
      JSON.stringify({ time: 1, status_code: 'ok', actor: { session: Object.create(null) }, __proto__: { uid: 'ses_a' }, x: '"ses_a"' }),
    ].join('\n');
    const file = auditFile([call('ses_a', 1)], `${foreign}\n{"time":5,"actor":{"session":{"uid":"ses_a"`);
    const tail = await readSessionAuditTail(file, 'ses_a', WIDE);
    expect(tail.records.map((r) => r.time)).toEqual([T0 + 1]);
    expect(summarise(JSON.stringify({ time: 7, status_code: 'ok', actor: { session: { uid: 'ses_a' } }, api: { operation: 'session.create' } }), 'ses_a'))
      .toEqual({ time: 7, event: 'session.create', activityId: null, status: 'ok', epoch: null, actor: null, actorType: null, method: null, path: null, tool: null, mcpTool: null });
  });

  it('stops at maxRecords, keeping the newest', async () => {
    const file = auditFile(Array.from({ length: 30 }, (_, i) => call('ses_a', i)));
    const tail = await readSessionAuditTail(file, 'ses_a', { ...WIDE, maxRecords: 4 });
    expect(tail.records.map((r) => r.time - T0)).toEqual([29, 28, 27, 26]);
  });

  it('reads lines that span several 64 KiB chunks whole', async () => {
    const long = 'p'.repeat(200 * 1024);
    const file = auditFile([call('ses_a', 1), call('ses_a', 2, { path: `/${long}` }), call('ses_b', 3, { path: `/${long}` }), call('ses_a', 4)]);
    const tail = await readSessionAuditTail(file, 'ses_a', WIDE);
    expect(tail.records.map((r) => [r.time - T0, r.path!.length])).toEqual([[4, 11], [2, long.length + 1], [1, 11]]);
  });

  it('never looks further back than maxBytes, and leaves out the line the window cuts', async () => {
    const file = auditFile([call('ses_a', 1), ...Array.from({ length: 200 }, (_, i) => call('ses_b', 10 + i)), call('ses_a', 2)]);
    const near = await readSessionAuditTail(file, 'ses_a', { maxBytes: 4096, maxRecords: 50 });
    expect(near).toEqual({ wholeFile: false, records: [expect.objectContaining({ time: T0 + 2 })] });
    const whole = await readSessionAuditTail(file, 'ses_a', { maxBytes: statSync(file).size, maxRecords: 50 });
    expect(whole).toMatchObject({ wholeFile: true });
    expect(whole.records.map((r) => r.time - T0)).toEqual([2, 1]);
    // A foreign line whose end happens to be a record: a window starting inside it must not read that end.
    const planted = `foreign ${JSON.stringify({ time: 99, status_code: 'ok', actor: { session: { uid: 'ses_a' } }, api: { operation: 'x' } })}\n`;
    const cutFile = auditFile([], planted);
    appendFileSync(cutFile, readFileSync(file));
    const cut = await readSessionAuditTail(cutFile, 'ses_a', { maxBytes: statSync(cutFile).size - 'foreign '.length, maxRecords: 50 });
    expect(cut.records.map((r) => r.time - T0)).toEqual([2, 1]);
  });

  it('rejects when the file cannot be read', async () => {
    await expect(readSessionAuditTail(join(dir, 'missing.log'), 'ses_a', WIDE)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
