// Published signing keys (SPEC §17 "Signing keys"): the public halves of every replica's token signing
// keys, so any replica verifies a token another one signed, and an admin can retire a key everywhere.
// Only public JWKs are ever stored: a private member is refused before it reaches any backend.
//
// Network-shaped (DESIGN rule 7): publish is insert-if-absent per kid and retire is one conditional
// update that sets retired_at once, so a PostgreSQL port is `INSERT … ON CONFLICT DO NOTHING` and
// `UPDATE … SET retired_at = coalesce(retired_at, $2) … RETURNING`. A retired key is never un-retired.

/** A public JWK as published (RFC 7517 §4); for Ed25519 (RFC 8037) kty, crv, x, kid, alg, use. */
export type PublicJwk = Readonly<Record<string, string>>;

export interface KeyToPublish {
  readonly kid: string;
  /** Must carry the same kid and no private member. */
  readonly jwk: PublicJwk;
  /** ms since epoch */
  readonly publishedAt: number;
}

export interface PublishedKey extends KeyToPublish {
  /** ms since epoch when an admin retired it; null while it may verify. */
  readonly retiredAt: number | null;
}

export interface KeyStore {
  /** Inserts the key unless its kid is already published; answers what is stored now (the first
   *  publication wins, and a retired key stays retired). Rejects (TypeError) a JWK with private members. */
  publish(key: KeyToPublish): Promise<PublishedKey>;
  /** One primary-key read; null when the kid was never published. */
  get(kid: string): Promise<PublishedKey | null>;
  /** Published keys, oldest first (then by kid); retired ones only with includeRetired. */
  list(options: { readonly includeRetired: boolean }): Promise<PublishedKey[]>;
  /** Sets retired_at to `now` unless already set; answers the key as it now is (a second retire keeps the
   *  first time), or null when the kid was never published. */
  retire(kid: string, now: number): Promise<PublishedKey | null>;
}

/** RFC 7518 §6.2.2, §6.3.2, §6.4.1 (and RFC 8037 §2 `d`): members that only a private or secret key has. */
export const PRIVATE_JWK_MEMBERS: readonly string[] = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** Checks a key before any backend sees it; throws TypeError (a caller bug, never a store failure). */
export function checkKeyToPublish(key: KeyToPublish): void {
  if (typeof key.kid !== 'string' || key.kid === '') throw new TypeError('a published key needs a kid');
  if (key.jwk === null || typeof key.jwk !== 'object' || Array.isArray(key.jwk)) throw new TypeError('a published key must be a JWK object');
  const secret = PRIVATE_JWK_MEMBERS.filter((member) => Object.hasOwn(key.jwk, member));
  if (secret.length > 0) throw new TypeError(`refusing to publish private key material (${secret.join(', ')})`);
  if (key.jwk.kid !== key.kid) throw new TypeError('the JWK kid differs from the published kid');
  for (const value of Object.values(key.jwk)) if (typeof value !== 'string') throw new TypeError('published JWK members must be strings');
  if (!Number.isSafeInteger(key.publishedAt)) throw new TypeError('publishedAt must be an integer (ms)');
}
