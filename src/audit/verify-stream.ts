// Streaming side of `epochgate audit verify` (SPEC §13): reads a file once, in 1 MiB chunks, holding one
// line at a time, and follows the hash chain forwards. For an intact file that is all the work there is:
// memory stays bounded by the longest line, whatever the file size. The moment a line does not follow,
// the caller falls back to verify.ts, whose walk looks ahead through the whole file to name the kind of
// break (edited, removed, inserted, reordered, truncated); only a damaged file pays for that.
import { createReadStream } from 'node:fs';
import { ZERO_HASH } from './hash-chain.js';
import type { Entry } from './verify.js';

const NEWLINE = 0x0a;
const CHUNK = 1 << 20;

export interface FileLine {
  readonly text: string;
  /** 1-based. */
  readonly number: number;
  /** False for a last line without its newline (a record cut short). */
  readonly terminated: boolean;
}

/** The file's lines, in order, without their newlines. */
export async function* readLines(path: string): AsyncGenerator<FileLine> {
  let rest: Buffer | undefined;
  let number = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
    const data: Buffer = rest === undefined ? chunk : Buffer.concat([rest, chunk]);
    let start = 0;
    for (let end = data.indexOf(NEWLINE); end !== -1; end = data.indexOf(NEWLINE, start)) {
      yield { text: data.toString('utf8', start, end), number: ++number, terminated: true };
      start = end + 1;
    }
    rest = start < data.length ? data.subarray(start) : undefined;
  }
  if (rest !== undefined) yield { text: rest.toString('utf8'), number: ++number, terminated: false };
}

/** Where the chain stands after the last record that followed (what an anchor names as "the record before"). */
export interface Position {
  readonly uid: string;
  readonly seq: number;
  readonly hash: string;
}

/** The forward-only part of verify.ts's walk: the same continue/start rule, without the look-ahead. */
export class ChainFollower {
  private lastHash = ZERO_HASH;
  private last: Position | undefined;
  private readonly uids = new Set<string>();
  records = 0;
  chains = 0;

  get position(): Position | undefined {
    return this.last;
  }

  /** True when the line follows the chain; false means "stop and diagnose the whole file". */
  follow(entry: Entry, terminated: boolean): boolean {
    if (entry.kind !== 'record' || !entry.selfOk || !terminated) return false;
    const last = this.last;
    const continues = last !== undefined && entry.uid === last.uid && entry.seq === last.seq + 1 && entry.prev === this.lastHash;
    const starts = entry.uid !== last?.uid && !this.uids.has(entry.uid) && entry.seq === 1 && entry.prev === this.lastHash;
    if (!continues && !starts) return false;
    if (starts) this.chains += 1;
    this.uids.add(entry.uid);
    this.records += 1;
    this.lastHash = entry.hash;
    this.last = { uid: entry.uid, seq: entry.seq, hash: entry.hash };
    return true;
  }
}
