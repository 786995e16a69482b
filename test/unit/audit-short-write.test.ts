// The audit writer hands write(2) the line as a string (no Buffer copy per record). write(2) may write
// less than asked (pipes, a full disk, signals): the rest must follow as bytes from the right byte offset
// (a multi-byte character may be cut), and a failure after a short write must leave the chain where the
// file's last complete record is (SPEC §13: the chain only advances after a successful write).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { openAuditLog } from '../../src/audit/file-audit-log.js';
import type { AuditEvent } from '../../src/audit/types.js';

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  return { ...actual, writeSync: vi.fn(actual.writeSync) };
});

const realWriteSync = (await vi.importActual<typeof import('node:fs')>('node:fs')).writeSync;
const writeSyncMock = vi.mocked(fs.writeSync);
const dir = mkdtempSync(join(tmpdir(), 'epochgate-audit-short-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => writeSyncMock.mockReset().mockImplementation(realWriteSync as typeof fs.writeSync));

let n = 0;
const event = (path: string): AuditEvent => {
  n += 1;
  return { event: 'tool.call', time: Date.UTC(2026, 0, 1) + n, requestId: `req_${n}`, status: 'ok', method: 'GET', tool: 'github', path };
};

interface Line {
  unmapped: { epochgate: { chain: { prev_hash: string; hash: string } } };
}

/** The next string write(2) writes only the first `bytes(line)` bytes of its line and reports that. */
function shortenNextStringWrite(bytes: (line: Buffer) => number): void {
  writeSyncMock.mockImplementationOnce(((fd: number, data: string | NodeJS.ArrayBufferView) => {
    if (typeof data !== 'string') throw new Error('expected the line as a string');
    const line = Buffer.from(data, 'utf8');
    return realWriteSync(fd, line.subarray(0, bytes(line)));
  }) as typeof fs.writeSync);
}

describe('audit writer: short writes', () => {
  it('writes the rest of a short write from the byte where it stopped, through a multi-byte character', () => {
    const file = join(dir, 'short.log');
    const log = openAuditLog({ path: file, productVersion: '0.1.0' });
    log.write(event('/first'));
    // Cut inside the last two-byte ü: the byte offset, not the string offset, must be resumed.
    shortenNextStringWrite((line) => line.lastIndexOf(Buffer.from('ü')) + 1);
    log.write(event('/zürich/ü/ü'));
    log.write(event('/third'));
    log.close();
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const parsed = lines.map((l) => JSON.parse(l) as Line);
    expect(lines[1]).toContain('/zürich/ü/ü');
    expect(parsed[1]!.unmapped.epochgate.chain.prev_hash).toBe(parsed[0]!.unmapped.epochgate.chain.hash);
    expect(parsed[2]!.unmapped.epochgate.chain.prev_hash).toBe(parsed[1]!.unmapped.epochgate.chain.hash);
  });

  it('fails the record when the rest cannot be written, and the next record links to the last complete one', () => {
    const file = join(dir, 'cut.log');
    const log = openAuditLog({ path: file, productVersion: '0.1.0' });
    log.write(event('/before'));
    shortenNextStringWrite(() => 20);
    writeSyncMock.mockImplementationOnce(() => {
      throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    });
    expect(() => log.write(event('/cut'))).toThrow(/audit write failed \(EIO\)/);
    log.write(event('/after'));
    log.close();
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    // The 20-byte fragment is ended by a newline of its own; the next record starts on a fresh line.
    expect(lines).toHaveLength(3);
    expect(lines[1]).toHaveLength(20);
    const before = JSON.parse(lines[0]!) as Line;
    const after = JSON.parse(lines[2]!) as Line;
    expect(after.unmapped.epochgate.chain.prev_hash).toBe(before.unmapped.epochgate.chain.hash);
  });
});
