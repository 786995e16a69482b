// Session-token verification, SPEC §6 steps 2–4 (steps 5+ live in session-access.ts).
//
// Checks in one readable straight line in SPEC order, with no library deciding order or leniency for us:
// jose's jwtVerify would do extra work we do not want (JWK lookups per call, its own clock tolerance
// semantics) and cannot reject duplicate member names, which SPEC §6 step 2 requires. Ed25519 verification
// with a prepared node:crypto KeyObject is synchronous; only the kid lookup may wait (SPEC §17: a kid that
// another replica published, or whose retirement is due for a re-read, costs one store read; see
// published-keys.ts for the bounds).
//
// Verified claims are cached per token string (lru-cache), so a token presented on every call is
// verified cryptographically once. Only successes are cached; the time checks (step 4) and the kid's
// standing (retired keys stop verifying, SPEC §17) are re-checked on every call, hits included.
import { verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { GatewayError } from '../errors/gateway-error.js';
import type { Clock } from '../util/clock.js';
import { DuplicateKeyError, parseStrictJson } from '../util/strict-json.js';
import type { SigningKeys } from './signing-keys.js';
import { MAX_TOKEN_LIFETIME_SECONDS } from './token-mint.js';

export interface VerifiedToken {
  readonly jti: string;
  readonly sessionId: string;
  /** `sub` (= `client_id`) */
  readonly agentId: string;
  readonly epoch: number;
  readonly scope: readonly string[];
  /** seconds */
  readonly iat: number;
  /** seconds */
  readonly exp: number;
  /** seconds */
  readonly nbf: number;
}

export interface TokenVerifier {
  /** Steps 2–4; rejects with GatewayError token_invalid / token_expired (bearer: true), or
   *  store_unavailable when an unfamiliar kid cannot be looked up. */
  verify(token: string): Promise<VerifiedToken>;
}

/** The public key a kid names, or undefined when it is no usable gateway key (unknown or retired). */
export type KeyResolver = (kid: string) => KeyObject | undefined | Promise<KeyObject | undefined>;

export interface TokenVerifierOptions {
  /** The local key set; used when no `resolveKey` is given (a single process with no published keys). */
  readonly keys?: SigningKeys;
  /** Looks a kid up among every replica's published keys (key-ring.ts); preferred over `keys`. */
  readonly resolveKey?: KeyResolver;
  readonly issuer: string;
  readonly audience: string;
  readonly clock: Clock;
  /** Max cached verified tokens (default 10 000). 0 disables the cache. */
  readonly cacheSize?: number;
}

/** SPEC §6 step 2: the whole token within 8 KiB. */
export const MAX_TOKEN_BYTES = 8 * 1024;
/** SPEC §6 step 4: at most 5 s leeway on nbf and exp. */
export const CLOCK_LEEWAY_MS = 5_000;

// Header members that would make us fetch or trust keys named by the token itself (RFC 7515 §4.1.2–6,
// RFC 8725 §3.10), or extensions we would have to understand (crit, §4.1.11). Never followed: rejected.
const FORBIDDEN_HEADER_MEMBERS = ['crit', 'jku', 'x5u', 'jwk', 'x5c'] as const;
const B64URL = /^[A-Za-z0-9_-]+$/;
// Our kids are RFC 7638 SHA-256 thumbprints (43 base64url characters); other replicas' keys may use other
// kids, so any short printable string is looked up, anything else is refused without a lookup.
const KID = /^[\x21-\x7e]{1,256}$/;
// An Ed25519 signature is 64 bytes = 86 base64url characters without padding (RFC 8037 §3.1).
const ED25519_SIGNATURE_CHARS = 86;
const utf8 = new TextDecoder('utf-8', { fatal: true });

interface CachedToken {
  readonly kid: string;
  readonly publicKey: KeyObject;
  readonly verified: VerifiedToken;
}

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { issuer, audience, clock } = options;
  const local = options.keys;
  const resolveKey: KeyResolver | undefined = options.resolveKey ?? (local ? (kid) => local.publicKeyFor(kid) : undefined);
  if (!resolveKey) throw new TypeError('createTokenVerifier needs keys or resolveKey');
  const max = options.cacheSize ?? 10_000;
  const cache = max > 0 ? new LRUCache<string, CachedToken>({ max }) : undefined;

  return {
    async verify(token: string): Promise<VerifiedToken> {
      const cached = cache?.get(token);
      if (cached) {
        // The signature was checked with this very key; the kid must still name it (not retired since).
        const key = await resolveKey(cached.kid);
        if (!key || (key !== cached.publicKey && !key.equals(cached.publicKey))) throw invalid('The token key is not a gateway key');
        checkTime(cached.verified, clock.now());
        return cached.verified;
      }
      const parsed = parseToken(token);
      const publicKey = await resolveKey(parsed.kid);
      if (!publicKey) throw invalid('The token key is not a gateway key');
      const verified = verifyParsed(parsed, publicKey, issuer, audience);
      const now = clock.now();
      checkTime(verified, now);
      // Bounded by exp (+ leeway): after that, step 4 would reject it anyway; let it fall out.
      cache?.set(token, { kid: parsed.kid, publicKey, verified }, { ttl: Math.max(1, verified.exp * 1000 + CLOCK_LEEWAY_MS - now) });
      return verified;
    },
  };
}

interface ParsedToken {
  readonly kid: string;
  readonly headerPart: string;
  readonly payloadPart: string;
  readonly signaturePart: string;
}

/** Step 2 up to the key lookup: shape, size, header members, algorithm, type, a kid. */
function parseToken(token: string): ParsedToken {
  // Step 2: shape and size first, so an oversized or garbage credential costs nothing more.
  if (typeof token !== 'string' || token.length > MAX_TOKEN_BYTES) throw invalid('The token is too long');
  const parts = token.split('.');
  if (parts.length !== 3) throw invalid('The token is not a compact JWS');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  if (!B64URL.test(headerPart) || !B64URL.test(payloadPart) || !B64URL.test(signaturePart)) {
    throw invalid('The token is not a compact JWS');
  }

  const header = decodeJsonPart(headerPart, 'header');
  for (const member of FORBIDDEN_HEADER_MEMBERS) {
    if (Object.hasOwn(header, member)) throw invalid(`The token header carries "${member}"`);
  }
  // Exact algorithm (RFC 8725 §3.1): no "none", no HMAC keyed with our public key, nothing negotiated.
  if (header.alg !== 'EdDSA') throw invalid('The token algorithm is not EdDSA');
  // Exact type (RFC 9068 §2.1, RFC 8725 §3.11): another JWT this key might sign is not a session token.
  if (header.typ !== 'at+jwt') throw invalid('The token type is not at+jwt');
  // A kid is looked up only when it could be one of ours (a thumbprint-sized printable string).
  if (typeof header.kid !== 'string' || !KID.test(header.kid)) throw invalid('The token key is not a gateway key');
  return { kid: header.kid, headerPart, payloadPart, signaturePart };
}

/** The rest of step 2 (signature) and step 3. Never caches, never looks at the clock. */
function verifyParsed(parsed: ParsedToken, publicKey: KeyObject, issuer: string, audience: string): VerifiedToken {
  const { headerPart, payloadPart, signaturePart } = parsed;
  if (signaturePart.length !== ED25519_SIGNATURE_CHARS) throw invalid('The token signature does not verify');
  const signature = Buffer.from(signaturePart, 'base64url');
  // Canonical encoding only: otherwise one signature has several spellings (and several cache keys).
  if (signature.toString('base64url') !== signaturePart) throw invalid('The token signature does not verify');
  // RFC 7515 §5.2: signing input = ASCII(header "." payload), exactly as received.
  const signingInput = Buffer.from(`${headerPart}.${payloadPart}`, 'ascii');
  if (!cryptoVerify(null, signingInput, publicKey, signature)) throw invalid('The token signature does not verify');

  // The claims are parsed only once the signature vouches for them.
  const claims = decodeJsonPart(payloadPart, 'claims');

  // Step 3: issuer, audience, claim types.
  if (claims.iss !== issuer) throw invalid('The token issuer is not this gateway');
  if (!audienceMatches(claims.aud, audience)) throw invalid('The token audience is not this gateway');
  const { sid, sub, jti, epoch, iat, exp, nbf, scope } = claims;
  if (typeof sid !== 'string' || typeof sub !== 'string' || typeof jti !== 'string') {
    throw invalid('The token sid, sub and jti must be strings');
  }
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 1) {
    throw invalid('The token epoch must be a positive integer');
  }
  if (!isNumericDate(iat) || !isNumericDate(exp) || !isNumericDate(nbf)) {
    throw invalid('The token iat, nbf and exp must be numbers');
  }
  if (exp - iat > MAX_TOKEN_LIFETIME_SECONDS) throw invalid('The token lifetime exceeds 24h');
  if (typeof scope !== 'string') throw invalid('The token scope must be a string');

  return Object.freeze({
    jti,
    sessionId: sid,
    agentId: sub,
    epoch,
    scope: Object.freeze(scope.split(' ').filter((tool) => tool !== '')),
    iat,
    exp,
    nbf,
  });
}

/** Step 4, on every call (cache hits included): nbf ≤ now + leeway and exp > now − leeway. */
function checkTime(token: VerifiedToken, nowMs: number): void {
  if (token.nbf * 1000 > nowMs + CLOCK_LEEWAY_MS) throw expired('The token is not valid yet');
  if (token.exp * 1000 <= nowMs - CLOCK_LEEWAY_MS) throw expired('The token has expired');
}

function decodeJsonPart(part: string, what: 'header' | 'claims'): Record<string, unknown> {
  let value: unknown;
  try {
    // fatal: invalid UTF-8 is an error, not U+FFFD that might compare equal to something.
    value = parseStrictJson(utf8.decode(Buffer.from(part, 'base64url')));
  } catch (err) {
    // RFC 7515 §5.2 / SPEC §6 step 2: duplicate member names are rejected, never "last one wins".
    // The member name is echoed only when it is a plain short name (it comes from the token).
    if (err instanceof DuplicateKeyError) {
      const name = /^[A-Za-z0-9_]{1,32}$/.test(err.key) ? ` "${err.key}"` : '';
      throw invalid(`The token ${what} has a duplicate member${name}`);
    }
    // Not the parser's message: it may quote the token text.
    throw invalid(`The token ${what} is not valid JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(`The token ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** RFC 7519 §4.1.3: a string equal to ours, or an array containing it. */
function audienceMatches(aud: unknown, audience: string): boolean {
  if (typeof aud === 'string') return aud === audience;
  return Array.isArray(aud) && aud.includes(audience);
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

// Details name the failed check only: they never contain the token (SPEC §12).
function invalid(detail: string): GatewayError {
  return new GatewayError('token_invalid', { bearer: true, detail });
}

function expired(detail: string): GatewayError {
  return new GatewayError('token_expired', { bearer: true, detail });
}
