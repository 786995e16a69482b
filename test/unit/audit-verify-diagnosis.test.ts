// `audit verify` names the break exactly (src/audit/verify.ts): the whole result — line, reason and the
// message an investigator reads — for every branch of the diagnosis, and each malformed-chain check on its
// own. Written for the survivors of a mutation run (docs/testing.md); the files are built record by record
// so each case shows the one thing that is out of place.
import { describe, expect, it } from 'vitest';
import { HashChain, ZERO_HASH } from '../../src/audit/hash-chain.js';
import { parseLine, verifyAuditLines } from '../../src/audit/verify.js';

interface Rec {
  readonly line: string;
  readonly hash: string;
}

/** A record of chain `uid` at `seq`, linked to `prev`, sealed like the audit writer seals it. */
const rec = (uid: string, seq: number, prev: string, tag = `${uid}/${seq}`): Rec =>
  new HashChain(uid, prev).seal({ class_uid: 6003, metadata: { sequence: seq }, tag });

/** A chain of `n` records continuing from `prev`. */
function chain(uid: string, n: number, prev = ZERO_HASH): Rec[] {
  const out: Rec[] = [];
  for (let seq = 1; seq <= n; seq++) out.push(rec(uid, seq, out.at(-1)?.hash ?? prev));
  return out;
}

const file = (recs: readonly (Rec | string)[]): string => recs.map((r) => `${typeof r === 'string' ? r : r.line}\n`).join('');
const failure = (line: number, reason: string, message: string) => ({ ok: false, line, reason, message });

describe('verifyAuditLines: the diagnosis of a break, message included', () => {
  const a = chain('chn_a', 4);

  it('accepts records built this way, chain after chain', () => {
    const b = chain('chn_b', 2, a[3]!.hash);
    expect(verifyAuditLines(file([...a, ...b]))).toEqual({ ok: true, records: 6, chains: 2 });
  });

  it('a record that does not match its own hash', () => {
    const changed = a[1]!.line.replace('chn_a/2', 'chn_a/X');
    expect(verifyAuditLines(file([a[0]!, changed, a[2]!]))).toEqual(failure(2, 'changed', 'the record does not match its chain hash'));
  });

  it('a record rewritten with its hash recomputed: reported at the rewritten line, where the next one stops linking', () => {
    const forged = rec('chn_a', 2, a[0]!.hash, 'forged');
    expect(verifyAuditLines(file([a[0]!, forged, a[2]!, a[3]!]))).toEqual(
      failure(2, 'changed', 'the record was rewritten: line 3 links to a different record'),
    );
  });

  it('a copy of an earlier line', () => {
    expect(verifyAuditLines(file([a[0]!, a[1]!, a[0]!]))).toEqual(failure(3, 'removed_or_inserted', 'inserted: the record is a copy of line 1'));
  });

  it('a sequence that goes back while the link holds', () => {
    const back = rec('chn_a', 2, a[2]!.hash, 'back');
    expect(verifyAuditLines(file([a[0]!, a[1]!, a[2]!, back]))).toEqual(failure(4, 'reordered', 'sequence goes back from 3 to 2'));
  });

  it('the next sequence further down the file', () => {
    expect(verifyAuditLines(file([a[0]!, a[2]!, a[1]!, a[3]!]))).toEqual(failure(2, 'reordered', 'sequence 2 should come next but is at line 3'));
  });

  it('a sequence that jumps with nothing further down', () => {
    expect(verifyAuditLines(file([a[0]!, a[1]!, a[3]!]))).toEqual(failure(3, 'removed_or_inserted', 'removed: sequence jumps from 2 to 4'));
  });

  it('a record of a chain that already ended', () => {
    const b = chain('chn_b', 1, a[1]!.hash);
    const late = rec('chn_a', 3, b[0]!.hash, 'late');
    expect(verifyAuditLines(file([a[0]!, a[1]!, b[0]!, late]))).toEqual(
      failure(4, 'reordered', 'the record belongs to chain chn_a, which ended before line 4'),
    );
  });

  it('a new chain while the one before continues further down', () => {
    const b = chain('chn_b', 1, a[1]!.hash);
    expect(verifyAuditLines(file([a[0]!, b[0]!, a[1]!]))).toEqual(failure(2, 'reordered', 'the chain before this line continues later, at line 3'));
  });

  it('a chain whose first record comes further down', () => {
    const b = chain('chn_b', 2, a[1]!.hash);
    expect(verifyAuditLines(file([a[0]!, a[1]!, b[1]!, b[0]!]))).toEqual(failure(3, 'reordered', 'chain chn_b starts later, at line 4'));
  });

  it('a chain whose first records are missing', () => {
    const b = chain('chn_b', 3, a[1]!.hash);
    expect(verifyAuditLines(file([a[0]!, a[1]!, b[2]!]))).toEqual(
      failure(3, 'removed_or_inserted', 'removed: chain chn_b starts at sequence 3, its first records are missing'),
    );
  });

  it('a new chain that continues from the line before the last one: the last line was inserted', () => {
    const b = chain('chn_b', 1, a[1]!.hash);
    expect(verifyAuditLines(file([a[0]!, a[1]!, a[2]!, b[0]!]))).toEqual(
      failure(3, 'removed_or_inserted', 'line 4 starts a chain that continues from line 2: this record was inserted, or cut short before a restart'),
    );
  });

  it('a new chain that continues from a record further down', () => {
    const x = chain('chn_x', 1, a[1]!.hash);
    const b = chain('chn_b', 1, x[0]!.hash);
    expect(verifyAuditLines(file([a[0]!, a[1]!, b[0]!, x[0]!]))).toEqual(failure(3, 'reordered', 'the chain continues from line 4, which comes later'));
  });

  it('a new chain from 64 zeros in the middle of the file', () => {
    const z = chain('chn_z', 1);
    expect(verifyAuditLines(file([a[0]!, a[1]!, z[0]!]))).toEqual(
      failure(3, 'removed_or_inserted', 'a chain starts from 64 zeros in the middle of the file: records before it are not the ones it followed'),
    );
  });

  it('a new chain whose predecessor is missing', () => {
    const b = chain('chn_b', 1, a[2]!.hash);
    expect(verifyAuditLines(file([a[0]!, a[1]!, b[0]!]))).toEqual(
      failure(3, 'removed_or_inserted', 'removed: the record this chain continues from is missing'),
    );
  });

  it('a record that reuses its own chain uid for a second start', () => {
    const again = rec('chn_a', 1, a[1]!.hash, 'again');
    expect(verifyAuditLines(file([a[0]!, a[1]!, again]))).toEqual(failure(3, 'reordered', 'sequence goes back from 2 to 1'));
  });

  it('a record of another chain that carries the next sequence number and the link', () => {
    const b5 = rec('chn_b', 5, a[3]!.hash);
    expect(verifyAuditLines(file([...a, b5]))).toEqual(
      failure(5, 'removed_or_inserted', 'removed: chain chn_b starts at sequence 5, its first records are missing'),
    );
  });

  it('a second start of a chain that already ended, linked to the line before', () => {
    const b = chain('chn_b', 1, a[3]!.hash);
    const again = rec('chn_a', 1, b[0]!.hash, 'again');
    expect(verifyAuditLines(file([...a, b[0]!, again]))).toEqual(failure(6, 'reordered', 'the record belongs to chain chn_a, which ended before line 6'));
  });

  it('a new chain that continues from a line further up than the one before the last', () => {
    const b = chain('chn_b', 1, a[0]!.hash);
    expect(verifyAuditLines(file([...a, b[0]!]))).toEqual(failure(5, 'removed_or_inserted', 'removed: the record this chain continues from is missing'));
  });
});

describe('verifyAuditLines: cut lines', () => {
  const a = chain('chn_a', 3);

  it('a last line without its newline', () => {
    expect(verifyAuditLines(file(a).slice(0, -1))).toEqual(failure(3, 'truncated', 'the last line has no newline: it was cut short'));
  });

  it('a last line cut inside the record', () => {
    expect(verifyAuditLines(file(a).slice(0, -30))).toEqual(failure(3, 'truncated', 'the last line is not a complete record (not valid JSON)'));
    expect(verifyAuditLines([a[0]!.line, ''])).toEqual(failure(2, 'truncated', 'the last line is not a complete record (empty line)'));
  });

  it('a cut record followed by a restart from the record before it', () => {
    const restart = chain('chn_r', 1, a[1]!.hash);
    expect(verifyAuditLines(file([a[0]!, a[1]!, a[2]!.line.slice(0, 40), restart[0]!]))).toEqual(
      failure(3, 'truncated', 'the record was cut short (not valid JSON); line 4 continues from the record before it'),
    );
  });

  it('is damage, not a cut, when the line after does not continue from the last complete record', () => {
    const restart = chain('chn_r', 1, a[0]!.hash);
    expect(verifyAuditLines(file([a[0]!, a[1]!, a[2]!.line.slice(0, 40), restart[0]!]))).toEqual(failure(3, 'not_json', 'not valid JSON'));
  });

  it('is damage when the cut line does not start like a record', () => {
    const restart = chain('chn_r', 1, a[1]!.hash);
    expect(verifyAuditLines(file([a[0]!, a[1]!, `x${a[2]!.line.slice(0, 40)}`, restart[0]!]))).toEqual(failure(3, 'not_json', 'not valid JSON'));
  });

  it('is damage when the line after the cut is not itself a sound record', () => {
    const restart = chain('chn_r', 1, a[1]!.hash);
    const damaged = restart[0]!.line.replace('chn_r/1', 'chn_r/X');
    expect(verifyAuditLines(file([a[0]!, a[1]!, a[2]!.line.slice(0, 40), damaged]))).toEqual(failure(3, 'not_json', 'not valid JSON'));
  });

  it('is damage when an empty line sits between records', () => {
    expect(verifyAuditLines(file([a[0]!, '', a[1]!]))).toEqual(failure(2, 'not_json', 'empty line'));
  });
});

describe('parseLine: each malformed chain on its own', () => {
  const good = JSON.parse(chain('chn_a', 1)[0]!.line) as { metadata: { sequence: number }; unmapped: { epochgate: { chain: Record<string, unknown> } } };
  const CHAIN = 'unmapped.epochgate.chain {uid, prev_hash, hash} is missing or malformed';
  const SEQUENCE = 'metadata.sequence is missing or not a positive integer';
  const withChain = (over: Record<string, unknown>) => JSON.stringify({ ...good, unmapped: { epochgate: { chain: { ...good.unmapped.epochgate.chain, ...over } } } });
  const withSeq = (sequence: unknown) => new HashChain('chn_a').seal({ metadata: { sequence } }).line;

  it.each([
    ['an empty uid', withChain({ uid: '' }), CHAIN],
    ['a numeric uid', withChain({ uid: 7 }), CHAIN],
    ['a prev_hash of 63 hex digits', withChain({ prev_hash: '0'.repeat(63) }), CHAIN],
    ['an upper-case prev_hash', withChain({ prev_hash: 'A'.repeat(64) }), CHAIN],
    ['a prev_hash of 65 hex digits', withChain({ prev_hash: '0'.repeat(65) }), CHAIN],
    ['a numeric prev_hash', withChain({ prev_hash: 1 }), CHAIN],
    ['a numeric hash', withChain({ hash: 1 }), CHAIN],
    ['an array for unmapped', JSON.stringify({ ...good, unmapped: [good.unmapped] }), CHAIN],
    ['null for unmapped', JSON.stringify({ ...good, unmapped: null }), CHAIN],
    ['a line that is JSON null', 'null', CHAIN],
    ['sequence 0', withSeq(0), SEQUENCE],
    ['sequence 1.5', withSeq(1.5), SEQUENCE],
    ['a string sequence', withSeq('1'), SEQUENCE],
    ['a sequence beyond 2^53', withSeq(2 ** 53), SEQUENCE],
    ['a line that does not end with its chain', JSON.stringify({ ...good, after: 1 }), 'the line does not end with its chain hash as 64 lowercase hex digits'],
    [
      'a line that ends like a chain, but with another object\'s hash',
      JSON.stringify({ ...good, after: { a: { b: { hash: 'e'.repeat(64) } } } }),
      'the line does not end with its chain hash as 64 lowercase hex digits',
    ],
  ])('refuses %s as bad_chain with its own reason', (_name, line, why) => {
    expect(parseLine(line).entry).toEqual({ kind: 'bad_chain', why });
  });

  it('accepts sequence 1 and a sound record as a record that verifies on its own', () => {
    const [first] = chain('chn_a', 1);
    expect(parseLine(first!.line).entry).toEqual({ kind: 'record', uid: 'chn_a', seq: 1, prev: ZERO_HASH, hash: first!.hash, selfOk: true });
  });

  it('marks text that starts like a record, and only that, as a possible cut record', () => {
    expect(parseLine('{"class_uid":6003,"meta').entry).toEqual({ kind: 'not_json', why: 'not valid JSON', recordStart: true });
    expect(parseLine('{"other":1,').entry).toEqual({ kind: 'not_json', why: 'not valid JSON', recordStart: false });
    expect(parseLine('').entry).toEqual({ kind: 'not_json', why: 'empty line', recordStart: false });
  });
});
