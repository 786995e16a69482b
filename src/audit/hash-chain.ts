// SPEC §13 "Tamper evidence": records form a hash chain per process start. Each record carries
// unmapped.epochgate.chain = {uid, prev_hash, hash}; `hash` is the last member of `chain`, `chain` the last
// of unmapped.epochgate, `epochgate` the last of `unmapped` and `unmapped` the last of the record, so every
// sealed line ends with `"hash":"<64 hex>"}}}}` and the hashed text is found by plain string surgery: no
// second serialisation, no canonicalisation that a verifier in another language would have to reproduce.
import { sha256Hex } from '../util/hash.js';

/** prev_hash of a chain that continues nothing (a new file, or stdout). */
export const ZERO_HASH = '0'.repeat(64);

/** The closing text of every sealed line; the hex sits between HASH_PREFIX and LINE_SUFFIX. */
const HASH_PREFIX = '"hash":"';
const LINE_SUFFIX = '"}}}}';
const UNSEALED_SUFFIX = `${HASH_PREFIX}${LINE_SUFFIX}`;
const SEALED_TAIL = /"hash":"([0-9a-f]{64})"\}\}\}\}$/;

/**
 * SPEC §13: SHA-256 over the previous record's hash (hex), "\n", and the record's line exactly as written
 * (without its terminating newline) with the hash value replaced by the empty string.
 */
export function chainHash(prevHash: string, unsealedLine: string): string {
  return sha256Hex(`${prevHash}\n${unsealedLine}`);
}

/** Splits a sealed line into the hex it carries and the text that was hashed; undefined if it is not sealed. */
export function unsealLine(line: string): { hash: string; unsealed: string } | undefined {
  const match = SEALED_TAIL.exec(line);
  if (!match) return undefined;
  return { hash: match[1] as string, unsealed: line.slice(0, match.index) + UNSEALED_SUFFIX };
}

/** The chain hash a sealed line carries, without parsing it (used on the tail of a file at open). */
export function sealedHashOf(line: string): string | undefined {
  return SEALED_TAIL.exec(line)?.[1];
}

export interface SealedLine {
  /** The record's line without its newline. */
  readonly line: string;
  readonly hash: string;
}

/**
 * One chain (one process start). `seal` is pure; `advance` commits a sealed line once it is written, so a
 * failed write leaves the chain where it was and the next record links to the last record on disk.
 */
export class HashChain {
  private lastHash: string;
  private count = 0;

  constructor(
    readonly uid: string,
    prevHash: string = ZERO_HASH,
  ) {
    if (!/^[0-9a-f]{64}$/.test(prevHash)) throw new TypeError('prev_hash must be 64 lowercase hex digits');
    this.lastHash = prevHash;
  }

  /** metadata.sequence of the next record: counts from 1 per chain (SPEC §13). */
  get nextSequence(): number {
    return this.count + 1;
  }

  get previousHash(): string {
    return this.lastHash;
  }

  /**
   * Serialises `record` once, with chain.hash "", and splices the hex in. A record already in sealable
   * shape (what toOcsf builds: unmapped last, epochgate last in it, no chain yet) is serialised as is and
   * the chain text appended inside its last two closing braces; any other record is first rebuilt to put
   * unmapped/epochgate/chain last. Both give the same bytes for the same members (a unit test holds them
   * equal); the first spares every audit line three object copies.
   */
  seal(record: Readonly<Record<string, unknown>>): SealedLine {
    const chainText = `"chain":{"uid":${JSON.stringify(this.uid)},"prev_hash":"${this.lastHash}",${HASH_PREFIX}"}`;
    const spliced = sealable(record) ? spliceChain(JSON.stringify(record), chainText) : undefined;
    const unsealed = spliced ?? JSON.stringify(this.rebuilt(record));
    // Holds unless a toJSON somewhere rewrote the tail; refusing beats writing a line verify would reject.
    if (!unsealed.endsWith(UNSEALED_SUFFIX)) throw new Error('audit record does not end with its chain hash');
    const hash = chainHash(this.lastHash, unsealed);
    const line = unsealed.slice(0, unsealed.length - LINE_SUFFIX.length) + hash + LINE_SUFFIX;
    return { line, hash };
  }

  /** The record with unmapped last, epochgate last in it, and this chain's {uid, prev_hash, hash: ""} last in that. */
  private rebuilt(record: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const { unmapped, ...rest } = record;
    const { epochgate, ...otherUnmapped } = asObject(unmapped);
    const { chain: _ignored, ...members } = asObject(epochgate);
    const chain = { uid: this.uid, prev_hash: this.lastHash, hash: '' };
    return { ...rest, unmapped: { ...otherUnmapped, epochgate: { ...members, chain } } };
  }

  /** Commits a written line: it becomes the previous record of the next one. */
  advance(sealed: SealedLine): void {
    this.lastHash = sealed.hash;
    this.count += 1;
  }
}

/** Plain data objects only: a toJSON or a class could make the serialised tail differ from the members. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return (proto === Object.prototype || proto === null) && !('toJSON' in value);
}

/** True when the record's last member is unmapped, whose last is epochgate, which has members but no chain. */
function sealable(record: Readonly<Record<string, unknown>>): boolean {
  if (!isPlainObject(record) || lastKey(record) !== 'unmapped') return false;
  const unmapped = record.unmapped;
  if (!isPlainObject(unmapped) || lastKey(unmapped) !== 'epochgate') return false;
  const epochgate = unmapped.epochgate;
  return isPlainObject(epochgate) && !Object.hasOwn(epochgate, 'chain') && lastKey(epochgate) !== undefined;
}

function lastKey(value: object): string | undefined {
  let last: string | undefined;
  for (const key in value) if (Object.hasOwn(value, key)) last = key;
  return last;
}

/** `{…"epochgate":{…}}}` → `{…"epochgate":{…,<chainText>}}}}`; undefined if the text does not end as expected. */
function spliceChain(json: string, chainText: string): string | undefined {
  const at = json.length - 3;
  // "}}}" closes epochgate, unmapped and the record; an empty epochgate ("{}}}") would need no comma.
  if (!json.endsWith('}}}') || json[at - 1] === '{') return undefined;
  return `${json.slice(0, at)},${chainText}}}}`;
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
