import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HashChain, ZERO_HASH } from '../../src/audit/hash-chain.js';
import { toOcsf } from '../../src/audit/ocsf-record.js';
import { verifyAuditLines } from '../../src/audit/verify.js';
import { runAuditVerify } from '../../src/cli/audit-verify.js';

const T = Date.UTC(2026, 10, 24, 12, 0, 0);

/** Lines of consecutive chains (each continuing from the previous chain's last hash), `sizes` records each. */
function chains(...sizes: number[]): string[] {
  const lines: string[] = [];
  let prev = ZERO_HASH;
  sizes.forEach((size, c) => {
    const chain = new HashChain(`chn_${c}`, prev);
    for (let i = 0; i < size; i++) {
      const record = toOcsf(
        { event: 'tool.call', time: T + lines.length, status: 'ok', method: 'GET', path: `/p/${lines.length + 1}` },
        { productVersion: '0.1.0', sequence: chain.nextSequence, eventUid: `evt_${lines.length + 1}` },
      );
      const sealed = chain.seal(record);
      chain.advance(sealed);
      lines.push(sealed.line);
      prev = sealed.hash;
    }
  });
  return lines;
}

const text = (lines: string[]): string => lines.map((l) => `${l}\n`).join('');
const swap = (lines: string[], a: number, b: number): string[] => {
  const copy = [...lines];
  [copy[a], copy[b]] = [copy[b] as string, copy[a] as string];
  return copy;
};

describe('verifyAuditLines', () => {
  it('accepts an empty file and consecutive chains', () => {
    expect(verifyAuditLines('')).toEqual({ ok: true, records: 0, chains: 0 });
    expect(verifyAuditLines(text(chains(3, 2, 1)))).toEqual({ ok: true, records: 6, chains: 3 });
    expect(verifyAuditLines(chains(4))).toEqual({ ok: true, records: 4, chains: 1 });
  });

  it('reports a record changed in one character at its own line', () => {
    const lines = chains(3, 3);
    lines[3] = (lines[3] as string).replace('/p/4', '/p/X');
    expect(verifyAuditLines(text(lines))).toMatchObject({ ok: false, line: 4, reason: 'changed' });
  });

  it('reports a rewritten record whose hash was recomputed at that line', () => {
    const lines = chains(4);
    const forged = new HashChain('chn_0', (JSON.parse(lines[0] as string) as { unmapped: { epochgate: { chain: { hash: string } } } }).unmapped.epochgate.chain.hash);
    const original = JSON.parse(lines[1] as string) as Record<string, unknown>;
    lines[1] = forged.seal({ ...original, status_detail: 'forged' }).line;
    expect(verifyAuditLines(text(lines))).toMatchObject({ ok: false, line: 2, reason: 'changed' });
  });

  it('rejects a record that verifies on its own, in sequence, but whose prev_hash names another record', () => {
    const lines = chains(4);
    const hashOf = (line: string) => (JSON.parse(line) as { unmapped: { epochgate: { chain: { hash: string } } } }).unmapped.epochgate.chain.hash;
    // Line 4 re-sealed onto line 2: its own hash is right, its uid and sequence are right, only the link is wrong.
    const resealed = new HashChain('chn_0', hashOf(lines[1] as string)).seal(JSON.parse(lines[3] as string) as Record<string, unknown>).line;
    expect(resealed).not.toBe(lines[3]);
    lines[3] = resealed;
    expect(verifyAuditLines(text(lines))).toMatchObject({ ok: false, line: 3, reason: 'changed' });
    expect(verifyAuditLines(text(lines.slice(0, 3)))).toEqual({ ok: true, records: 3, chains: 1 });
  });

  it.each([
    ['the middle of a chain', [4, 3], 1, 2],
    ['the last record of a chain', [4, 3], 3, 4],
    ['the first record of a chain', [4, 3], 4, 5],
    ['the first line of the file', [4], 0, 1],
  ])('reports a record removed from %s at the line after the gap', (_name, sizes, removed, line) => {
    const lines = chains(...sizes);
    lines.splice(removed, 1);
    expect(verifyAuditLines(text(lines))).toMatchObject({ ok: false, line, reason: 'removed_or_inserted' });
  });

  it.each([
    ['within a chain', [5], 1, 2, 2],
    ['across two chains', [3, 3], 2, 3, 3],
    ['far apart', [6], 1, 4, 2],
  ])('reports records swapped %s as reordered at the first moved line', (_name, sizes, a, b, line) => {
    expect(verifyAuditLines(text(swap(chains(...sizes), a, b)))).toMatchObject({ ok: false, line, reason: 'reordered' });
  });

  it.each([
    ['from earlier', 0, 3, 4],
    ['from later', 4, 1, 2],
  ])('reports a copy of a line inserted %s at the inserted line', (_name, from, at, line) => {
    const lines = chains(3, 3);
    lines.splice(at, 0, lines[from] as string);
    expect(verifyAuditLines(text(lines))).toMatchObject({ ok: false, line, reason: 'removed_or_inserted', message: expect.stringContaining('inserted') });
  });

  it('reports a last line without newline or cut short as truncated', () => {
    const lines = chains(3);
    expect(verifyAuditLines(text(lines).slice(0, -1))).toMatchObject({ ok: false, line: 3, reason: 'truncated' });
    expect(verifyAuditLines(text(lines).slice(0, -20))).toMatchObject({ ok: false, line: 3, reason: 'truncated' });
    expect(verifyAuditLines([...lines.slice(0, 2), (lines[2] as string).slice(0, 30)])).toMatchObject({ ok: false, line: 3, reason: 'truncated' });
  });

  it('reports a cut line followed by a restart that continued from the record before it as truncated', () => {
    const all = chains(3, 2);
    const lines = [...all.slice(0, 2), (all[2] as string).slice(0, 40)];
    // The restarted chain links to line 2, the last complete record.
    const restart = new HashChain('chn_r', (JSON.parse(all[1] as string) as { unmapped: { epochgate: { chain: { hash: string } } } }).unmapped.epochgate.chain.hash);
    const sealed = restart.seal(JSON.parse(all[3] as string) as Record<string, unknown>);
    lines.push(sealed.line);
    expect(verifyAuditLines(text(lines))).toMatchObject({ ok: false, line: 3, reason: 'truncated' });
  });

  it('reports garbage in the middle as not_json and a record without a chain as bad_chain', () => {
    const lines = chains(3);
    expect(verifyAuditLines(text([lines[0] as string, 'hello', ...lines.slice(1)]))).toMatchObject({ ok: false, line: 2, reason: 'not_json' });
    expect(verifyAuditLines(text([lines[0] as string, '{"a":1}', ...lines.slice(1)]))).toMatchObject({ ok: false, line: 2, reason: 'bad_chain' });
  });

  it('rejects a chain that restarts from 64 zeros in the middle of a file', () => {
    const a = chains(2);
    const fresh = new HashChain('chn_z');
    const sealed = fresh.seal(JSON.parse(a[0] as string) as Record<string, unknown>);
    expect(verifyAuditLines(text([...a, sealed.line]))).toMatchObject({ ok: false, line: 3, reason: 'removed_or_inserted' });
  });
});

describe('runAuditVerify', () => {
  const dir = mkdtempSync(join(tmpdir(), 'epochgate-verify-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) } };
  };

  it('prints ok per file and exits 0 when every chain verifies', async () => {
    const file = join(dir, 'good.log');
    writeFileSync(file, text(chains(2, 3)));
    const { out, io } = capture();
    expect(await runAuditVerify([file], io)).toBe(0);
    expect(out.join('')).toBe(`${file}: ok: 5 records in 2 chains, 0 anchors\n`);
  });

  it('prints FILE:LINE: reason and exits 1 when any file has a break', async () => {
    const good = join(dir, 'good2.log');
    const bad = join(dir, 'bad.log');
    writeFileSync(good, text(chains(2)));
    writeFileSync(bad, text(swap(chains(4), 1, 2)));
    const { out, io } = capture();
    expect(await runAuditVerify([good, bad], io)).toBe(1);
    expect(out.join('')).toMatch(new RegExp(`^${good}: ok: 2 records in 1 chains, 0 anchors\\n${bad}:2: reordered: .+\\n$`));
  });

  it('exits 1 for an unreadable file and 2 for usage errors; --help exits 0', async () => {
    const missing = capture();
    expect(await runAuditVerify([join(dir, 'nope.log')], missing.io)).toBe(1);
    expect(missing.err.join('')).toContain('ENOENT');
    expect(await runAuditVerify([], capture().io)).toBe(2);
    expect(await runAuditVerify(['--bogus', 'x'], capture().io)).toBe(2);
    const help = capture();
    expect(await runAuditVerify(['--help'], help.io)).toBe(0);
    expect(help.out.join('')).toContain('Usage: epochgate audit verify FILE');
  });
});
