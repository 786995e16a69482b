// `epochgate audit verify` (SPEC §13): finds the FIRST line where a record was changed, removed, inserted
// or reordered, or where the last line is truncated. Each line is checked against its own hash (changed),
// then against its neighbour (prev_hash, chain uid, metadata.sequence). When the link breaks, the sequence
// numbers and the rest of the file tell which kind of break it is; the line number is the first line that
// is out of place, which is what an investigator opens the file at.
import { ZERO_HASH, chainHash, unsealLine } from './hash-chain.js';

export type VerifyReason = 'changed' | 'removed_or_inserted' | 'reordered' | 'truncated' | 'not_json' | 'bad_chain';

export type VerifyResult =
  | { readonly ok: true; readonly records: number; readonly chains: number }
  | { readonly ok: false; readonly line: number; readonly reason: VerifyReason; readonly message: string };

export type Entry =
  | { readonly kind: 'record'; readonly uid: string; readonly seq: number; readonly prev: string; readonly hash: string; readonly selfOk: boolean }
  | { readonly kind: 'not_json' | 'bad_chain'; readonly why: string; readonly recordStart?: boolean };

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Verifies the file's text (a missing final newline means the last line was cut short) or its lines
 * (newlines already removed; only an unparsable last line counts as truncated).
 */
export function verifyAuditLines(input: string | readonly string[]): VerifyResult {
  let lines: readonly string[];
  let unterminated = false;
  if (typeof input === 'string') {
    const split = input.split('\n');
    // Every record is written with its newline in the same write(2): text after the last newline is a cut line.
    unterminated = input.length > 0 && !input.endsWith('\n');
    if (!unterminated) split.pop();
    lines = split;
  } else {
    lines = input;
  }
  const entries = lines.map(parseEntry);
  return new Walk(entries, unterminated).run();
}

function parseEntry(line: string): Entry {
  return parseLine(line).entry;
}

/** One line as the walk sees it, and the parsed record (undefined when it is not JSON) for further checks. */
export function parseLine(line: string): { entry: Entry; value: unknown } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    // A record cut short still starts the way every record does (ocsf-record.ts puts class_uid first).
    const entry: Entry = { kind: 'not_json', why: line.length === 0 ? 'empty line' : 'not valid JSON', recordStart: line.startsWith('{"class_uid":') };
    return { entry, value: undefined };
  }
  return { entry: entryOf(line, value), value };
}

function entryOf(line: string, value: unknown): Entry {
  const chain = member(member(member(value, 'unmapped'), 'epochgate'), 'chain');
  const uid = member(chain, 'uid');
  const prev = member(chain, 'prev_hash');
  const hash = member(chain, 'hash');
  const seq = member(member(value, 'metadata'), 'sequence');
  if (typeof uid !== 'string' || uid.length === 0 || typeof prev !== 'string' || !HEX64.test(prev) || typeof hash !== 'string') {
    return { kind: 'bad_chain', why: 'unmapped.epochgate.chain {uid, prev_hash, hash} is missing or malformed' };
  }
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
    return { kind: 'bad_chain', why: 'metadata.sequence is missing or not a positive integer' };
  }
  const sealed = unsealLine(line);
  if (!sealed || sealed.hash !== hash) {
    return { kind: 'bad_chain', why: 'the line does not end with its chain hash as 64 lowercase hex digits' };
  }
  return { kind: 'record', uid, seq, prev, hash, selfOk: chainHash(prev, sealed.unsealed) === hash };
}

export function member(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}

type Failure = Extract<VerifyResult, { ok: false }>;
type RecordEntry = Extract<Entry, { kind: 'record' }>;
const fail = (line: number, reason: VerifyReason, message: string): Failure => ({ ok: false, line, reason, message });

class Walk {
  /** Line indices of every record by its hash and by (chain uid, sequence), for looking ahead. */
  private readonly byHash = new Map<string, number[]>();
  private readonly bySeq = new Map<string, number[]>();
  private lastHash = ZERO_HASH;
  /** prev_hash of the last good record, i.e. the hash of the good record before it. */
  private lastPrev: string | undefined;
  private lastUid: string | undefined;
  private lastSeq = 0;
  private readonly uids = new Set<string>();

  constructor(
    private readonly entries: readonly Entry[],
    private readonly unterminated: boolean,
  ) {
    entries.forEach((e, i) => {
      if (e.kind !== 'record') return;
      push(this.byHash, e.hash, i);
      push(this.bySeq, seqKey(e.uid, e.seq), i);
    });
  }

  run(): VerifyResult {
    const n = this.entries.length;
    let chains = 0;
    for (let i = 0; i < n; i++) {
      const e = this.entries[i] as Entry;
      const lineNo = i + 1;
      const isLast = i === n - 1;
      if (e.kind !== 'record') {
        if (isLast) return fail(lineNo, 'truncated', `the last line is not a complete record (${e.why})`);
        const next = this.entries[i + 1];
        // A crash or failed write mid-line leaves the start of a record; the writer then puts the next record on
        // a new line, linked to the last complete record. That pattern is a truncation, anything else is damage.
        if (e.kind === 'not_json' && e.recordStart === true && next?.kind === 'record' && next.selfOk && next.prev === this.lastHash) {
          return fail(lineNo, 'truncated', `the record was cut short (${e.why}); line ${lineNo + 1} continues from the record before it`);
        }
        return fail(lineNo, e.kind, e.why);
      }
      if (!e.selfOk) return fail(lineNo, 'changed', 'the record does not match its chain hash');
      const continues = e.uid === this.lastUid && e.seq === this.lastSeq + 1 && e.prev === this.lastHash;
      const starts = e.uid !== this.lastUid && !this.uids.has(e.uid) && e.seq === 1 && e.prev === this.lastHash;
      if (!continues && !starts) return this.diagnose(i, e);
      if (isLast && this.unterminated) return fail(lineNo, 'truncated', 'the last line has no newline: it was cut short');
      if (starts) chains += 1;
      this.uids.add(e.uid);
      this.lastPrev = e.prev;
      this.lastHash = e.hash;
      this.lastUid = e.uid;
      this.lastSeq = e.seq;
    }
    return { ok: true, records: n, chains };
  }

  /** Names the break at line i (0-based), whose record verifies on its own but does not follow the last one. */
  private diagnose(i: number, e: RecordEntry): Failure {
    const copyOf = (this.byHash.get(e.hash) ?? []).find((j) => j !== i);
    if (copyOf !== undefined) {
      return fail(i + 1, 'removed_or_inserted', `inserted: the record is a copy of line ${copyOf + 1}`);
    }
    return e.uid === this.lastUid ? this.diagnoseSameChain(i, e) : this.diagnoseOtherChain(i, e);
  }

  /** The first line after line i holding sequence `seq` of chain `uid`, if any. */
  private later(i: number, uid: string | undefined, seq: number): number | undefined {
    return uid === undefined ? undefined : (this.bySeq.get(seqKey(uid, seq)) ?? []).find((j) => j > i);
  }

  /** The record is in the chain of the line before it, but is not its next sequence number or link. */
  private diagnoseSameChain(i: number, e: RecordEntry): Failure {
    const lineNo = i + 1;
    const expected = this.lastSeq + 1;
    if (e.seq === expected) {
      // Right place by sequence, wrong link: the previous line was rewritten and its hash recomputed.
      return fail(lineNo - 1, 'changed', `the record was rewritten: line ${lineNo} links to a different record`);
    }
    if (e.seq < expected) return fail(lineNo, 'reordered', `sequence goes back from ${this.lastSeq} to ${e.seq}`);
    const moved = this.later(i, e.uid, expected);
    if (moved !== undefined) {
      return fail(lineNo, 'reordered', `sequence ${expected} should come next but is at line ${moved + 1}`);
    }
    return fail(lineNo, 'removed_or_inserted', `removed: sequence jumps from ${this.lastSeq} to ${e.seq}`);
  }

  /** The record is in another chain than the line before it, and does not start a new chain after it. */
  private diagnoseOtherChain(i: number, e: RecordEntry): Failure {
    const lineNo = i + 1;
    if (this.uids.has(e.uid)) {
      return fail(lineNo, 'reordered', `the record belongs to chain ${e.uid}, which ended before line ${lineNo}`);
    }
    const rest = this.later(i, this.lastUid, this.lastSeq + 1);
    if (rest !== undefined) return fail(lineNo, 'reordered', `the chain before this line continues later, at line ${rest + 1}`);
    if (e.seq !== 1) {
      const start = this.later(i, e.uid, 1);
      if (start !== undefined) return fail(lineNo, 'reordered', `chain ${e.uid} starts later, at line ${start + 1}`);
      return fail(lineNo, 'removed_or_inserted', `removed: chain ${e.uid} starts at sequence ${e.seq}, its first records are missing`);
    }
    return this.diagnoseNewChain(i, e);
  }

  /** A new chain (sequence 1) whose prev_hash is not the last line's hash. */
  private diagnoseNewChain(i: number, e: RecordEntry): Failure {
    const lineNo = i + 1;
    if (e.prev === this.lastPrev) {
      return fail(
        lineNo - 1,
        'removed_or_inserted',
        `line ${lineNo} starts a chain that continues from line ${lineNo - 2}: this record was inserted, or cut short before a restart`,
      );
    }
    const target = (this.byHash.get(e.prev) ?? []).find((j) => j > i);
    if (target !== undefined) return fail(lineNo, 'reordered', `the chain continues from line ${target + 1}, which comes later`);
    if (e.prev === ZERO_HASH) {
      return fail(lineNo, 'removed_or_inserted', 'a chain starts from 64 zeros in the middle of the file: records before it are not the ones it followed');
    }
    return fail(lineNo, 'removed_or_inserted', 'removed: the record this chain continues from is missing');
  }
}

function seqKey(uid: string, seq: number): string {
  return `${uid}\u0000${seq}`;
}

function push(map: Map<string, number[]>, key: string, index: number): void {
  const list = map.get(key);
  if (list) list.push(index);
  else map.set(key, [index]);
}
