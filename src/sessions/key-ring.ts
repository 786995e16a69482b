// This replica's signing keys and everyone's published ones (SPEC §6, §17 "Signing keys").
//
// - The local key set (the `tokens.keys` file) is one swappable reference: `load` publishes a new set's
//   public keys to the store first, then swaps, so a token signed with a new key can be verified by every
//   replica from its first use. Publishing happens at start (before the listeners accept) and on SIGHUP.
// - Verification asks `keyFor(kid)`: usable only when the kid is published and not retired (published-keys.ts
//   bounds how stale that answer may be and what random kids can cost).
// - Minting asks `signingKey()`: a retired key of this process never signs; until a new key is loaded,
//   minting fails closed with store_unavailable (503, Retry-After), the catalogue's "cannot serve this now".
import type { KeyObject } from 'node:crypto';
import { GatewayError } from '../errors/gateway-error.js';
import type { KeyStore, PublicJwk, PublishedKey } from '../store/key-types.js';
import type { Clock } from '../util/clock.js';
import { PublishedKeys, type KidStatus, type PublishedKeysOptions } from './published-keys.js';
import type { SigningKeys } from './signing-keys.js';

export interface KeyRingOptions extends Omit<PublishedKeysOptions, 'localKey' | 'store' | 'clock'> {
  readonly store: KeyStore;
  readonly clock: Clock;
  /** How long /.well-known/jwks.json is served from memory (default 1 000 ms). */
  readonly jwksTtlMs?: number;
}

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

export const JWKS_TTL_MS = 1_000;

export class KeyRing {
  private local: SigningKeys;
  private readonly published: PublishedKeys;
  private jwksCache: { readonly until: number; readonly value: Promise<{ keys: PublicJwk[] }> } | undefined;

  private constructor(initial: SigningKeys, private readonly options: KeyRingOptions) {
    this.local = initial;
    this.published = new PublishedKeys({ ...options, localKey: (kid) => this.local.publicKeyFor(kid) });
  }

  /** Publishes the initial key set, then answers the ring (start-up: before any listener accepts). */
  static async open(initial: SigningKeys, options: KeyRingOptions): Promise<KeyRing> {
    const ring = new KeyRing(initial, options);
    await ring.publish(initial);
    return ring;
  }

  /** The local key set now (the newest key in it signs, if not retired). */
  current(): SigningKeys {
    return this.local;
  }

  /** Publishes `keys`, then makes it the local set (SIGHUP). A failure leaves the last good set in place. */
  async load(keys: SigningKeys): Promise<void> {
    await this.publish(keys);
    this.local = keys;
    this.jwksCache = undefined;
  }

  /** The key that signs tokens now; store_unavailable when it is retired (or was never published). */
  async signingKey(): Promise<SigningKey> {
    const key = this.local.signingKey;
    const status = await this.published.lookup(key.kid);
    if (status.kind !== 'usable') throw noSigningKey(key.kid, status);
    return key;
  }

  /** Synchronous variant for audit anchors: refuses a key last seen retired, and refreshes in the background. */
  usableSigningKey(): SigningKey {
    const key = this.local.signingKey;
    const last = this.published.lastKnown(key.kid);
    if (last !== undefined && last.kind !== 'usable') throw noSigningKey(key.kid, last);
    Promise.resolve()
      .then(() => this.published.lookup(key.kid))
      .catch(() => undefined); // a failing store shows up on the next request; nothing to report here
    return key;
  }

  /** The public key a token's kid names, or undefined when it is unknown or retired (→ token_invalid). */
  keyFor(kid: string): KeyObject | undefined | Promise<KeyObject | undefined> {
    const status = this.published.lookup(kid);
    return status instanceof Promise ? status.then(usableKey) : usableKey(status);
  }

  /** Every published, unretired key (this replica's and the others'), served from memory for a second. */
  jwks(): Promise<{ keys: PublicJwk[] }> {
    const now = this.options.clock.now();
    if (this.jwksCache && this.jwksCache.until > now) return this.jwksCache.value;
    const value = this.options.store.list({ includeRetired: false }).then((keys) => ({ keys: keys.map((k) => k.jwk) }));
    const entry = { until: now + (this.options.jwksTtlMs ?? JWKS_TTL_MS), value };
    this.jwksCache = entry;
    // A failed read is not remembered: the next request tries the store again.
    value.catch(() => {
      if (this.jwksCache === entry) this.jwksCache = undefined;
    });
    return value;
  }

  /** Retires a published key everywhere (SPEC §17); here at once, on other replicas within the TTL. */
  async retire(kid: string, now: number): Promise<PublishedKey> {
    const retired = await this.options.store.retire(kid, now);
    if (retired === null) throw new GatewayError('route_not_found', { detail: 'No published key has this kid' });
    this.published.markRetired(kid);
    this.jwksCache = undefined;
    return retired;
  }

  private async publish(keys: SigningKeys): Promise<void> {
    const publishedAt = this.options.clock.now();
    for (const jwk of keys.jwks().keys) {
      const stored = await this.options.store.publish({ kid: jwk.kid, jwk: { ...jwk }, publishedAt });
      // The first publication of a kid wins: another key under our kid would verify our tokens here and
      // nowhere else (or someone else's everywhere), so such a key set is refused, never half used.
      if (stored.jwk.x !== jwk.x) throw new Error(`signing key ${jwk.kid} is already published with another public key; generate a new key`);
      this.published.forget(jwk.kid);
    }
  }
}

function usableKey(status: KidStatus): KeyObject | undefined {
  return status.kind === 'usable' ? status.publicKey : undefined;
}

function noSigningKey(kid: string, status: KidStatus): GatewayError {
  const why = status.kind === 'retired' ? 'is retired' : 'is not published';
  return new GatewayError('store_unavailable', {
    detail: `The gateway's signing key ${why}; no token can be issued until an operator loads a new key`,
    cause: new Error(`signing key ${kid} ${why}`),
  });
}
