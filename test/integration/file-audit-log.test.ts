import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openAuditLog } from '../../src/audit/file-audit-log.js';
import { ZERO_HASH } from '../../src/audit/hash-chain.js';
import type { AuditEvent } from '../../src/audit/types.js';
import { verifyAuditLines } from '../../src/audit/verify.js';
import { ManualClock } from '../../src/util/clock.js';

const dir = mkdtempSync(join(tmpdir(), 'epochgate-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const event = (): AuditEvent => {
  n += 1;
  return { event: 'tool.call', time: Date.UTC(2026, 0, 1) + n, requestId: `req_${n}`, status: 'ok', method: 'GET', tool: 'github', path: `/call/${n}` };
};

interface Line {
  metadata: { sequence: number; logged_time?: number };
  unmapped: { epochgate: { chain: { uid: string; prev_hash: string; hash: string } } };
}
const parse = (text: string): Line[] => text.trimEnd().split('\n').map((l) => JSON.parse(l) as Line);

/** Writes `perStart` records in each of several process starts (open, write, close). */
function writeStarts(file: string, ...perStart: number[]): string {
  perStart.forEach((count, start) => {
    const log = openAuditLog({ path: file, productVersion: '0.1.0', chainUid: `chn_${start}` });
    for (let i = 0; i < count; i++) log.write(event());
    log.close();
  });
  return readFileSync(file, 'utf8');
}

const lines = (text: string): string[] => text.split('\n').slice(0, -1);
const join_ = (ls: string[]): string => ls.map((l) => `${l}\n`).join('');

describe('openAuditLog (file)', () => {
  it('writes synchronously: after write() returns the line is in the file', () => {
    const file = join(dir, 'sync', 'nested', 'audit.log');
    const log = openAuditLog({ path: file, productVersion: '0.1.0', clock: new ManualClock(42) });
    log.write(event());
    const after1 = readFileSync(file, 'utf8');
    expect(after1.endsWith('\n')).toBe(true);
    expect(lines(after1)).toHaveLength(1);
    log.write(event());
    expect(lines(readFileSync(file, 'utf8'))).toHaveLength(2);
    expect(parse(after1)[0]?.metadata.logged_time).toBe(42);
    log.close();
  });

  it('chains across process starts: sequence restarts, prev_hash continues, verify passes', () => {
    const file = join(dir, 'two-starts.log');
    const text = writeStarts(file, 3, 2);
    const records = parse(text);
    expect(records.map((r) => r.metadata.sequence)).toEqual([1, 2, 3, 1, 2]);
    expect(records.map((r) => r.unmapped.epochgate.chain.uid)).toEqual(['chn_0', 'chn_0', 'chn_0', 'chn_1', 'chn_1']);
    expect(records[0]?.unmapped.epochgate.chain.prev_hash).toBe(ZERO_HASH);
    expect(records[3]?.unmapped.epochgate.chain.prev_hash).toBe(records[2]?.unmapped.epochgate.chain.hash);
    expect(verifyAuditLines(text)).toEqual({ ok: true, records: 5, chains: 2 });
  });

  describe('verify on tampered copies of a real two-start file', () => {
    const original = lines(writeStarts(join(dir, 'tamper.log'), 4, 4));

    it('names the line edited in one character', () => {
      const copy = [...original];
      copy[5] = (copy[5] as string).replace('"status_code":"ok"', '"status_code":"oK"');
      expect(verifyAuditLines(join_(copy))).toMatchObject({ ok: false, line: 6, reason: 'changed' });
    });

    it('names the line after a deleted one', () => {
      const copy = [...original];
      copy.splice(2, 1);
      expect(verifyAuditLines(join_(copy))).toMatchObject({ ok: false, line: 3, reason: 'removed_or_inserted' });
    });

    it('names the first of two swapped lines', () => {
      const copy = [...original];
      [copy[5], copy[6]] = [copy[6] as string, copy[5] as string];
      expect(verifyAuditLines(join_(copy))).toMatchObject({ ok: false, line: 6, reason: 'reordered' });
    });

    it('names a line copied in from elsewhere', () => {
      const copy = [...original];
      copy.splice(6, 0, original[1] as string);
      expect(verifyAuditLines(join_(copy))).toMatchObject({ ok: false, line: 7, reason: 'removed_or_inserted' });
    });

    it('names a truncated last line', () => {
      const text = join_(original);
      expect(verifyAuditLines(text.slice(0, text.length - 25))).toMatchObject({ ok: false, line: 8, reason: 'truncated' });
    });
  });

  it('after a crash left a cut line, starts the new chain on its own line and verify reports the cut line', () => {
    const file = join(dir, 'crash.log');
    const text = writeStarts(file, 3);
    writeFileSync(file, text.slice(0, text.length - 30));
    const reopened = writeStarts(file, 2);
    const ls = lines(reopened);
    expect(ls).toHaveLength(5);
    expect(() => JSON.parse(ls[2] as string)).toThrow();
    const restart = JSON.parse(ls[3] as string) as Line;
    expect(restart.metadata.sequence).toBe(1);
    expect(restart.unmapped.epochgate.chain.prev_hash).toBe((JSON.parse(ls[1] as string) as Line).unmapped.epochgate.chain.hash);
    expect(verifyAuditLines(reopened)).toMatchObject({ ok: false, line: 3, reason: 'truncated' });
  });

  it('continues from a last line longer than the tail read window', () => {
    const file = join(dir, 'long.log');
    const log = openAuditLog({ path: file, productVersion: '0.1.0' });
    log.write(event());
    log.write({ ...event(), extra: { note: 'x'.repeat(150_000) } });
    log.close();
    expect(verifyAuditLines(writeStarts(file, 1))).toEqual({ ok: true, records: 3, chains: 2 });
  });

  it('starts from 64 zeros on a file whose last line carries no chain, and verify reports that line', () => {
    const file = join(dir, 'foreign.log');
    appendFileSync(file, '{"not":"ours"}\n');
    const ls = lines(writeStarts(file, 1));
    expect((JSON.parse(ls[1] as string) as Line).unmapped.epochgate.chain.prev_hash).toBe(ZERO_HASH);
    expect(verifyAuditLines(join_(ls))).toMatchObject({ ok: false, line: 1, reason: 'bad_chain' });
  });

  it('throws when write(2) fails (ENOSPC on /dev/full, which every Linux has), so the gateway fails closed', () => {
    expect(existsSync('/dev/full')).toBe(true);
    const log = openAuditLog({ path: '/dev/full', productVersion: '0.1.0' });
    expect(() => log.write(event())).toThrow(/audit write failed \(ENOSPC\)/);
    log.close();
  });

  it('fails loudly on a write after close', () => {
    const log = openAuditLog({ path: join(dir, 'closed.log'), productVersion: '0.1.0' });
    log.close();
    expect(() => log.write(event())).toThrow(/after close/);
  });
});
