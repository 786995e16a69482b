import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HashChain, ZERO_HASH, chainHash, unsealLine } from '../../src/audit/hash-chain.js';
import { toOcsf } from '../../src/audit/ocsf-record.js';
import type { AuditEvent } from '../../src/audit/types.js';

const T = Date.UTC(2026, 10, 24, 12, 0, 0);
const event = (n: number): AuditEvent => ({ event: 'tool.call', time: T + n, status: 'ok', method: 'GET', tool: 't', extra: { n } });

/** The SPEC §13 rule, written out independently of the implementation. */
function expectedHash(prevHash: string, line: string): string {
  const hex = /"hash":"([0-9a-f]{64})"\}\}\}\}$/.exec(line)?.[1];
  if (hex === undefined) throw new Error('line does not end with its hash');
  const withoutHash = `${line.slice(0, line.length - `${hex}"}}}}`.length)}"}}}}`;
  return createHash('sha256').update(`${prevHash}\n${withoutHash}`, 'utf8').digest('hex');
}

function sealNext(chain: HashChain, n: number): { line: string; hash: string } {
  const sealed = chain.seal(toOcsf(event(n), { productVersion: '0.1.0', sequence: chain.nextSequence, eventUid: `evt_${n}` }));
  chain.advance(sealed);
  return sealed;
}

describe('HashChain', () => {
  it('writes chain {uid, prev_hash, hash} last, with hash last and once, so the line ends with the hash', () => {
    const chain = new HashChain('chn_a');
    const { line, hash } = sealNext(chain, 1);
    expect(line).toMatch(/"chain":\{"uid":"chn_a","prev_hash":"0{64}","hash":"[0-9a-f]{64}"\}\}\}\}$/);
    expect(line.match(/"hash":/g)).toHaveLength(1);
    const parsed = JSON.parse(line) as { unmapped: { epochgate: Record<string, unknown> } };
    expect(Object.keys(parsed).at(-1)).toBe('unmapped');
    expect(Object.keys(parsed.unmapped.epochgate).at(-1)).toBe('chain');
    expect(parsed.unmapped.epochgate.chain).toEqual({ uid: 'chn_a', prev_hash: ZERO_HASH, hash });
  });

  it('hashes the previous hash, a newline and the line with an empty hash value (checked independently)', () => {
    const chain = new HashChain('chn_a');
    const first = sealNext(chain, 1);
    const second = sealNext(chain, 2);
    expect(first.hash).toBe(expectedHash(ZERO_HASH, first.line));
    expect(second.hash).toBe(expectedHash(first.hash, second.line));
    expect((JSON.parse(second.line) as { unmapped: { epochgate: { chain: { prev_hash: string } } } }).unmapped.epochgate.chain.prev_hash).toBe(first.hash);
  });

  it('starts from a given prev_hash and counts sequence from 1 per chain', () => {
    const a = new HashChain('chn_a');
    sealNext(a, 1);
    const last = sealNext(a, 2);
    expect(a.nextSequence).toBe(3);
    const b = new HashChain('chn_b', last.hash);
    expect(b.nextSequence).toBe(1);
    const first = sealNext(b, 3);
    expect(JSON.parse(first.line)).toMatchObject({ metadata: { sequence: 1 }, unmapped: { epochgate: { chain: { uid: 'chn_b', prev_hash: last.hash } } } });
  });

  it('does not move on until a sealed line is committed', () => {
    const chain = new HashChain('chn_a');
    const record = toOcsf(event(1), { productVersion: '0.1.0', sequence: 1, eventUid: 'e' });
    const first = chain.seal(record);
    const again = chain.seal(record);
    expect(JSON.parse(again.line).unmapped.epochgate.chain.prev_hash).toBe(ZERO_HASH);
    expect(again.hash).toBe(first.hash);
    expect(chain.nextSequence).toBe(1);
    expect(chain.previousHash).toBe(ZERO_HASH);
    chain.advance(first);
    expect(chain.nextSequence).toBe(2);
    expect(chain.previousHash).toBe(first.hash);
    expect(JSON.parse(chain.seal(record).line).unmapped.epochgate.chain.prev_hash).toBe(first.hash);
  });

  it('puts chain last even when the record was built with unmapped first and a stale chain inside', () => {
    const chain = new HashChain('chn_a');
    const { line } = chain.seal({ unmapped: { epochgate: { chain: { hash: 'old' }, event: 'x' }, other: 1 }, class_uid: 6003 });
    expect(line.startsWith('{"class_uid":6003,"unmapped":{"other":1,"epochgate":{"event":"x","chain":{"uid":"chn_a"')).toBe(true);
  });

  it('unseals a line back to the hashed text', () => {
    const chain = new HashChain('chn_a');
    const { line, hash } = sealNext(chain, 1);
    const unsealed = unsealLine(line);
    expect(unsealed?.hash).toBe(hash);
    expect(chainHash(ZERO_HASH, unsealed?.unsealed ?? '')).toBe(hash);
    expect(unsealLine(line.slice(0, -1))).toBeUndefined();
  });

  it('rejects a prev_hash that is not 64 lowercase hex digits', () => {
    expect(() => new HashChain('c', 'ABC')).toThrow(TypeError);
    const hex = 'a'.repeat(64);
    // Anchored at both ends: 64 hex digits with anything before or after is not a hash.
    for (const bad of [`x${hex}`, `${hex}x`, hex.toUpperCase(), hex.slice(1)]) {
      expect(() => new HashChain('c', bad)).toThrow(new TypeError('prev_hash must be 64 lowercase hex digits'));
    }
    expect(new HashChain('c', hex).previousHash).toBe(hex);
  });

  it('seals a record whose unmapped or epochgate is missing, null, an array or a string as if it were empty', () => {
    const sealedShape = /^\{"class_uid":6003,"unmapped":\{"epochgate":\{"chain":\{"uid":"chn_a","prev_hash":"0{64}","hash":"[0-9a-f]{64}"\}\}\}\}$/;
    for (const unmapped of [undefined, null, ['x'], 'text', { epochgate: null }, { epochgate: ['x'] }, { epochgate: 'text' }]) {
      const { line } = new HashChain('chn_a').seal({ class_uid: 6003, ...(unmapped === undefined ? {} : { unmapped }) });
      expect(line, JSON.stringify(unmapped)).toMatch(sealedShape);
    }
  });

  it('refuses to seal a record whose serialisation would not end with its chain hash (a toJSON rewrote it)', () => {
    const chain = new HashChain('chn_a');
    expect(() => chain.seal({ unmapped: { epochgate: { toJSON: () => ({ forged: true }) } } })).toThrow(new Error('audit record does not end with its chain hash'));
    expect(chain.nextSequence).toBe(1);
  });

  // seal() serialises a toOcsf-shaped record as is and splices the chain in; any other record is rebuilt.
  // Moving `unmapped` first forces the rebuild, which must give the very same bytes.
  it('seals a toOcsf record to the same bytes whether it is spliced or rebuilt', () => {
    const text = fc.string({ maxLength: 16 });
    const events = fc.record(
      {
        event: fc.constantFrom('tool.call' as const, 'session.resume' as const, 'gateway.start' as const),
        time: fc.nat(),
        status: fc.constantFrom('ok' as const, 'policy_denied' as const, 'session_stale_epoch' as const),
        requestId: text,
        sessionId: text,
        epoch: fc.nat(),
        tool: text,
        method: fc.constantFrom('GET', 'POST'),
        path: text,
        extra: fc.dictionary(fc.oneof(text, fc.constant('__proto__')), fc.jsonValue()),
      },
      { requiredKeys: ['event', 'time', 'status'] },
    );
    fc.assert(
      fc.property(events, text, (e, uid) => {
        const record = toOcsf(e, { productVersion: '0.1.0', sequence: 1, eventUid: 'evt_1' });
        const { unmapped, ...rest } = record;
        const spliced = new HashChain(uid).seal(record);
        const rebuilt = new HashChain(uid).seal({ unmapped, ...rest });
        expect(spliced).toEqual(rebuilt);
        expect(JSON.parse(spliced.line)).toEqual(JSON.parse(JSON.stringify({ ...record, unmapped: { epochgate: { ...(unmapped as { epochgate: object }).epochgate, chain: { uid, prev_hash: ZERO_HASH, hash: spliced.hash } } } })));
      }),
      { numRuns: 300 },
    );
  });

  it('seals records the splice cannot take (empty epochgate, no unmapped) by rebuilding them, and refuses a toJSON that rewrites the tail', () => {
    const chain = new HashChain('chn_a');
    expect(chain.seal({ a: 1, unmapped: { epochgate: {} } }).line).toMatch(/^\{"a":1,"unmapped":\{"epochgate":\{"chain":\{"uid":"chn_a","prev_hash":"0{64}","hash":"[0-9a-f]{64}"\}\}\}\}$/);
    expect(() => chain.seal({ a: 1, unmapped: { epochgate: { event: 'x', toJSON: () => ({}) } } })).toThrow(/does not end with its chain hash/);
    expect(chain.seal({ a: 1 }).line.startsWith('{"a":1,"unmapped":{"epochgate":{"chain":')).toBe(true);
    // Members that serialise to nothing leave an empty epochgate: the chain is then its only member.
    expect(chain.seal({ a: 1, unmapped: { epochgate: { gone: undefined } } }).line.startsWith('{"a":1,"unmapped":{"epochgate":{"chain":')).toBe(true);
  });
});
