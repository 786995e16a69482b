// The audit writer (SPEC §13). Durability: every record is written with write(2) (fs.writeSync) before
// write() returns, one whole line per call, with no async buffer in between, so a crash after the response
// cannot lose its record. A failed write throws; audit-guard.ts turns that into a fail-closed outage
// (audit_unavailable, /readyz 503) with automatic retries, never into a crash.
//
// A file can also stop being "the stream" without any write failing: removed, renamed away or replaced
// (by a directory, a device). write(2) on the old descriptor would keep succeeding into an inode nobody
// reads. So at most every IDENTITY_CHECK_MS the path is compared with the open descriptor; a mismatch is a
// write failure, and the next attempt reopens the path. A reopened file starts a new chain (new chain uid,
// linked to that file's last line as at a process start), so `audit verify` checks both files as written.
import { closeSync, fstatSync, mkdirSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { newEventId, newId } from '../util/ids.js';
import type { Clock } from '../util/clock.js';
import { HashChain, ZERO_HASH, sealedHashOf } from './hash-chain.js';
import { toOcsf } from './ocsf-record.js';
import type { AuditEvent, AuditLog, ChainHead } from './types.js';

export interface AuditLogOptions {
  /** '-' for stdout, else a file appended to (created with its parent directory). */
  readonly path: string;
  readonly productVersion: string;
  /** Stamps metadata.logged_time (OCSF: when the record was written, next to the event's own time). */
  readonly clock?: Clock;
  /** Injected ids (DESIGN rule 8): the chain uid of this process start and the per-record event uid. */
  readonly chainUid?: string;
  readonly eventUid?: () => string;
}

const STDOUT_FD = 1;
const NEWLINE = 0x0a;
const TAIL_CHUNK = 64 * 1024;
/** How long a write to a full non-blocking stdout pipe may wait for the reader before it fails loudly. */
const EAGAIN_GIVE_UP_MS = 10_000;
/** How often the path is checked to still name the open file (a stat per check, not per record). */
const IDENTITY_CHECK_MS = 200;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

interface OpenFile {
  readonly fd: number;
  readonly prevHash: string;
  /** st_dev/st_ino of the descriptor, compared with the path's. */
  readonly identity: string;
}

/** Opens the audit stream. Throws if the file cannot be created or read: the gateway must not start. */
export function openAuditLog(options: AuditLogOptions): AuditLog {
  return new FileAuditLog(options);
}

class FileAuditLog implements AuditLog {
  private readonly eventUid: () => string;
  /** Undefined for stdout. The config loader resolves paths against the config file; whatever is still
   *  relative is cwd-relative. */
  private readonly file: string | undefined;
  private current: OpenFile | undefined;
  private fd: number;
  private chain: HashChain;
  private closed = false;
  private danglingFragment = false;
  private stale = false;
  private checkedAt = Date.now();
  /** The last written record, for the next record's OCSF prev_event (only within the same chain). */
  private last: { chain: HashChain; uid: string; typeUid: number; hash: string } | undefined;

  constructor(private readonly options: AuditLogOptions) {
    this.eventUid = options.eventUid ?? newEventId;
    this.file = options.path === '-' ? undefined : resolve(options.path);
    // A stream has no earlier records to read back: each process start begins from 64 zeros.
    this.current = this.file === undefined ? undefined : openFile(this.file);
    this.fd = this.current?.fd ?? STDOUT_FD;
    this.chain = new HashChain(options.chainUid ?? newId('chn', 12), this.current?.prevHash ?? ZERO_HASH);
  }

  write(event: AuditEvent): void {
    if (this.closed) throw new Error('audit write after close');
    this.ensureCurrent();
    const { chain, last } = this;
    const uid = this.eventUid();
    const integrity = last === undefined || last.chain !== chain ? { chainUid: chain.uid } : { chainUid: chain.uid, prev: last };
    const record = toOcsf(event, { productVersion: this.options.productVersion, sequence: chain.nextSequence, eventUid: uid, integrity });
    if (this.options.clock) (record.metadata as Record<string, unknown>).logged_time = this.options.clock.now();
    const sealed = chain.seal(record);
    // After a short write failed midway, end that fragment first so this record gets a line of its own.
    const text = this.danglingFragment ? `\n${sealed.line}\n` : `${sealed.line}\n`;
    try {
      writeText(this.fd, text, this.fd === STDOUT_FD);
      this.danglingFragment = false;
    } catch (err) {
      if ((err as PartialWrite).partial) this.danglingFragment = true;
      throw new Error(`audit write failed (${(err as NodeJS.ErrnoException).code ?? 'error'}): failing closed`, { cause: err });
    }
    // Only a written line moves the chain on: after a failure the next record links to the last one on disk.
    chain.advance(sealed);
    this.last = { chain, uid, typeUid: record.type_uid as number, hash: sealed.hash };
  }

  // Read from the chain itself: nothing is kept per record for it (the hot path stays one counter).
  head(): ChainHead | undefined {
    const sequence = this.chain.nextSequence - 1;
    return sequence === 0 ? undefined : { chainUid: this.chain.uid, sequence, hash: this.chain.previousHash };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.current) closeSync(this.current.fd);
  }

  /** Throws when the path no longer names the open file; reopens it on the next attempt. */
  private ensureCurrent(): void {
    const file = this.file;
    if (file === undefined) return;
    if (!this.stale) {
      const now = Date.now();
      if (now - this.checkedAt < IDENTITY_CHECK_MS) return;
      this.checkedAt = now;
      if (identityOfPath(file) === this.current?.identity) return;
      this.stale = true;
      throw new Error('audit write failed (the audit file was removed or replaced): failing closed');
    }
    if (this.current) closeQuietly(this.current.fd);
    this.current = undefined;
    this.current = openFile(file);
    this.fd = this.current.fd;
    this.chain = new HashChain(newId('chn', 12), this.current.prevHash);
    this.stale = false;
    this.danglingFragment = false;
  }
}

/** Opens (creating) the file for appending and reads the hash its last complete line carries. */
function openFile(file: string): OpenFile {
  mkdirSync(dirname(file), { recursive: true });
  // 'a+': O_APPEND for every write, and the tail can be read through the same descriptor (no reopen race).
  const fd = openSync(file, 'a+', 0o640);
  try {
    const tail = readTail(fd);
    // A line cut short by a crash has no newline. Terminate it so the new chain starts on a line of its own;
    // the new chain links to the last complete line, so `audit verify` still reports the cut line.
    if (tail.unterminated) writeAll(fd, Buffer.from('\n'), false);
    const stat = fstatSync(fd);
    return { fd, prevHash: tail.lastHash ?? ZERO_HASH, identity: `${stat.dev}:${stat.ino}` };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

function identityOfPath(file: string): string | undefined {
  try {
    const stat = statSync(file);
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return undefined; // removed, or a parent replaced: not our file any more
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already unusable; the reopen below is what matters.
  }
}

/**
 * Writes the string itself (no Buffer copy of every line); only after a short write, or a first write the
 * pipe refused with EAGAIN, does the rest go through writeAll as bytes.
 */
function writeText(fd: number, text: string, retryEagain: boolean): void {
  let written: number;
  try {
    written = writeSync(fd, text);
  } catch (err) {
    // Nothing was written: the whole line goes through the retrying byte path (or the error is final).
    if (!retryEagain || (err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    written = 0;
  }
  // Byte length, not string length: a multi-byte character makes the line longer than text.length.
  if (written >= Buffer.byteLength(text, 'utf8')) return;
  try {
    writeAll(fd, Buffer.from(text, 'utf8').subarray(written), retryEagain);
  } catch (err) {
    if (written > 0) (err as PartialWrite).partial = true;
    throw err;
  }
}

/** One write(2) per line in the normal case; loops only on a short write (pipes). */
function writeAll(fd: number, data: Buffer, retryEagain: boolean): void {
  let offset = 0;
  let deadline = 0;
  while (offset < data.length) {
    try {
      offset += writeSync(fd, data, offset, data.length - offset);
    } catch (err) {
      if (offset > 0) (err as PartialWrite).partial = true;
      // stdout may be a non-blocking pipe: EAGAIN means the reader is behind. Wait synchronously (the record
      // must be out before the response) in 1 ms steps, but not forever: a dead reader must fail loudly.
      if (!retryEagain || (err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      const now = Date.now();
      if (deadline === 0) deadline = now + EAGAIN_GIVE_UP_MS;
      else if (now > deadline) throw err;
      Atomics.wait(sleepCell, 0, 0, 1);
    }
  }
}

type PartialWrite = NodeJS.ErrnoException & { partial?: boolean };

interface Tail {
  /** chain.hash of the last newline-terminated line, if it carries one. */
  readonly lastHash: string | undefined;
  /** The file does not end with a newline (a write was cut short). */
  readonly unterminated: boolean;
}

/** Reads backwards from the end until the last complete line is in hand (SPEC §13: chains link across starts). */
function readTail(fd: number): Tail {
  const size = fstatSync(fd).size;
  if (size === 0) return { lastHash: undefined, unterminated: false };
  let window = Math.min(TAIL_CHUNK, size);
  for (;;) {
    const start = size - window;
    const buf = Buffer.alloc(window);
    let got = 0;
    while (got < window) {
      const n = readSync(fd, buf, got, window - got, start + got);
      if (n === 0) break;
      got += n;
    }
    const text = buf.subarray(0, got);
    const unterminated = text[text.length - 1] !== NEWLINE;
    const end = text.lastIndexOf(NEWLINE);
    const begin = end < 0 ? -1 : text.lastIndexOf(NEWLINE, end - 1);
    // Need the newline before the last complete line too, unless the window already reaches the file start.
    if ((end < 0 || begin < 0) && start > 0) {
      window = Math.min(window * 2, size);
      continue;
    }
    if (end < 0) return { lastHash: undefined, unterminated };
    const line = text.subarray(begin + 1, end).toString('utf8');
    return { lastHash: sealedHashOf(line), unterminated };
  }
}
