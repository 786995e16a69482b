// Session (JIT) tokens, SPEC §6: JWS compact, EdDSA, typ at+jwt (RFC 9068 §2.1), signed by the newest
// gateway key. token-verify.ts is the other half; change both together.
import { SignJWT } from 'jose';
import { newTokenId } from '../util/ids.js';
import type { SigningKeys } from './signing-keys.js';

/** SPEC §6 step 3: a token may live at most 24 h; minting a longer one would only produce rejects. */
export const MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

export interface MintInput {
  readonly issuer: string;
  readonly audience: string;
  readonly agentId: string;
  readonly sessionId: string;
  readonly epoch: number;
  /** Tool names; serialised space-separated (RFC 8693 §4.2 / RFC 9068 §2.2.3 style). */
  readonly scope: readonly string[];
  readonly ttlMs: number;
  /** ms since the epoch (injected clock). */
  readonly now: number;
}

export interface MintedToken {
  readonly token: string;
  readonly jti: string;
  /** seconds */
  readonly iat: number;
  /** seconds */
  readonly exp: number;
}

export async function mintSessionToken(keys: Pick<SigningKeys, 'signingKey'>, input: MintInput): Promise<MintedToken> {
  if (!Number.isSafeInteger(input.epoch) || input.epoch < 1) throw new RangeError('epoch must be a positive integer');
  // Whole seconds (RFC 7519 NumericDate); at least 1 s so exp > iat.
  const ttl = Math.max(1, Math.floor(input.ttlMs / 1000));
  if (ttl > MAX_TOKEN_LIFETIME_SECONDS) throw new RangeError('token ttl exceeds 24h (SPEC §6)');
  for (const tool of input.scope) {
    // A space would split one tool into two when the scope string is read back.
    if (tool === '' || /\s/.test(tool)) throw new RangeError('scope entries must be non-empty and contain no whitespace');
  }
  const iat = Math.floor(input.now / 1000);
  const exp = iat + ttl;
  const jti = newTokenId();
  const token = await new SignJWT({
    client_id: input.agentId, // RFC 9068 §2.2: the client the token was issued to
    sid: input.sessionId,
    epoch: input.epoch,
    scope: input.scope.join(' '),
  })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: keys.signingKey.kid })
    .setIssuer(input.issuer)
    .setAudience(input.audience)
    .setSubject(input.agentId)
    .setJti(jti)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(exp)
    .sign(keys.signingKey.privateKey);
  return { token, jti, iat, exp };
}
