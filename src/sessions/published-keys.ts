// The verifier's view of every replica's published signing keys (SPEC §17 "Signing keys"): which kids may
// verify a token right now, and with which public key.
//
// Cost (DESIGN rule 16): a kid seen within the last `ttlMs` is answered from memory, with no store read;
// once its entry is older it is read again (one primary-key read, shared by every concurrent caller). That
// TTL is the bound on retirement: a key retired through another replica stops verifying here within
// `ttlMs` (5 s by default); a retire through this replica takes effect here at once.
//
// Hostile kids: a token's kid is read before its signature can be checked, so anyone can send random kids.
// Unknown kids are remembered only briefly (`negativeTtlMs`) in their own bounded LRU (they can never push
// out a real key), and store reads for kids not yet known are rate-limited by a token bucket
// (`missReadsPerSecond`): beyond it an unknown kid is refused without a read. Memory stays bounded by the two
// LRUs and the in-flight reads by the bucket.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { KeyStore, PublishedKey } from '../store/key-types.js';
import type { Clock } from '../util/clock.js';

export type KidStatus =
  | { readonly kind: 'usable'; readonly publicKey: KeyObject }
  | { readonly kind: 'retired' }
  | { readonly kind: 'unknown' };

export interface PublishedKeysOptions {
  readonly store: KeyStore;
  readonly clock: Clock;
  /** This process's own public key for a kid (its key file), preferred over the stored JWK. */
  readonly localKey: (kid: string) => KeyObject | undefined;
  /** How long a known kid's status is trusted without a store read (default 5 000 ms). */
  readonly ttlMs?: number;
  /** How long an unknown kid is remembered (default 1 000 ms). */
  readonly negativeTtlMs?: number;
  /** Size of each LRU (known kids, unknown kids); default 1 000. */
  readonly maxEntries?: number;
  /** Store reads per second for kids not in memory (bucket size and refill); default 20. */
  readonly missReadsPerSecond?: number;
}

interface Entry {
  readonly status: KidStatus;
  readonly until: number;
}

export const KEY_STATUS_TTL_MS = 5_000;
export const UNKNOWN_KID_TTL_MS = 1_000;
const UNKNOWN: KidStatus = Object.freeze({ kind: 'unknown' });
const RETIRED: KidStatus = Object.freeze({ kind: 'retired' });
const B64URL = /^[A-Za-z0-9_-]+$/;

export class PublishedKeys {
  private readonly known: LRUCache<string, Entry>;
  private readonly unknown: LRUCache<string, Entry>;
  private readonly reading = new Map<string, Promise<KidStatus>>();
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly missRate: number;
  private tokens: number;
  private refilledAt: number;

  constructor(private readonly options: PublishedKeysOptions) {
    const max = options.maxEntries ?? 1_000;
    this.known = new LRUCache({ max });
    this.unknown = new LRUCache({ max });
    this.ttlMs = options.ttlMs ?? KEY_STATUS_TTL_MS;
    this.negativeTtlMs = options.negativeTtlMs ?? UNKNOWN_KID_TTL_MS;
    this.missRate = options.missReadsPerSecond ?? 20;
    this.tokens = this.missRate;
    this.refilledAt = options.clock.now();
  }

  /** The kid's status: from memory while fresh, else one store read (store errors propagate: fail closed). */
  lookup(kid: string): KidStatus | Promise<KidStatus> {
    const now = this.options.clock.now();
    const fresh = this.known.get(kid) ?? this.unknown.get(kid);
    if (fresh && fresh.until > now) return fresh.status;
    const inFlight = this.reading.get(kid);
    if (inFlight) return inFlight;
    // A kid we knew (or hold locally) is re-read whatever the bucket says: only strangers are rationed.
    const familiar = this.known.has(kid) || this.options.localKey(kid) !== undefined;
    if (!familiar && !this.takeToken(now)) return UNKNOWN;
    const read = this.read(kid).finally(() => this.reading.delete(kid));
    this.reading.set(kid, read);
    return read;
  }

  /** The last status seen for a kid, however old (synchronous callers such as anchor signing). */
  lastKnown(kid: string): KidStatus | undefined {
    return this.known.get(kid)?.status ?? this.unknown.get(kid)?.status;
  }

  /** A retire through this replica applies here at once. */
  markRetired(kid: string): void {
    this.unknown.delete(kid);
    this.known.set(kid, { status: RETIRED, until: this.options.clock.now() + this.ttlMs });
  }

  /** Forget what is held for a kid (a key just published here must not stay "unknown"). */
  forget(kid: string): void {
    this.known.delete(kid);
    this.unknown.delete(kid);
  }

  private async read(kid: string): Promise<KidStatus> {
    const record = await this.options.store.get(kid);
    const status = this.statusOf(kid, record);
    const until = this.options.clock.now() + (status.kind === 'unknown' ? this.negativeTtlMs : this.ttlMs);
    if (status.kind === 'unknown') {
      this.known.delete(kid);
      this.unknown.set(kid, { status, until });
    } else {
      this.unknown.delete(kid);
      this.known.set(kid, { status, until });
    }
    return status;
  }

  private statusOf(kid: string, record: PublishedKey | null): KidStatus {
    if (record === null) return UNKNOWN;
    if (record.retiredAt !== null) return RETIRED;
    const previous = this.known.get(kid)?.status;
    // The same published key keeps its prepared KeyObject (verifier cache hits compare by identity first).
    if (previous?.kind === 'usable' && this.options.localKey(kid) === undefined && sameKey(previous.publicKey, record)) return previous;
    const publicKey = this.options.localKey(kid) ?? importEd25519(record);
    return publicKey ? Object.freeze({ kind: 'usable', publicKey }) : UNKNOWN;
  }

  private takeToken(now: number): boolean {
    const elapsed = Math.max(0, now - this.refilledAt);
    this.tokens = Math.min(this.missRate, this.tokens + (elapsed * this.missRate) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

function sameKey(key: KeyObject, record: PublishedKey): boolean {
  return key.export({ format: 'jwk' }).x === record.jwk.x;
}

/** A published Ed25519 public key (RFC 8037 §2), or undefined when the stored JWK is not one. */
export function importEd25519(record: PublishedKey): KeyObject | undefined {
  const { kty, crv, x, alg } = record.jwk;
  if (kty !== 'OKP' || crv !== 'Ed25519' || typeof x !== 'string' || !B64URL.test(x)) return undefined;
  if (alg !== undefined && alg !== 'EdDSA') return undefined;
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  } catch {
    return undefined;
  }
}
