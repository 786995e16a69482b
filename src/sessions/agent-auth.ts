// Agent authentication on the control plane, SPEC §4 (create, resume and token refresh all come here and
// re-verify in full: no cached verdicts). Credentials arrive in a JSON body, so no error here carries the
// bearer flag (SPEC §12: "Agent credentials sent in a JSON body get no challenge").
//
// Order, first failure decides:
//   1. exactly one of client_secret / client_assertion            → invalid_request
//   2. the agent exists and the credential verifies                → credential_invalid
//      (an unknown agent is indistinguishable from a bad credential, SPEC §7)
//   3. assertions only: the jti is unused, recorded atomically      → assertion_replayed
//      Done before 4 and 5 so that every cryptographically valid assertion is burnt when first shown:
//      one captured while the agent was disabled cannot be replayed after it is re-enabled.
//   4. the agent is enabled                                          → agent_disabled
//   5. not_before ≤ assertion iat (assertions) / ≤ now (secrets)     → credential_invalid
//      (the credential predates a rotation: it no longer verifies, so it is a credential failure, not a
//      state of the agent; no leeway, as for token_revoked in §6 step 7)
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { GatewayError } from '../errors/gateway-error.js';
import type { AgentCredential, AgentDef, PolicySnapshot } from '../policy/types.js';
import type { Store } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import { hexDigestEquals, sha256Hex } from '../util/hash.js';

export interface AgentCredentialInput {
  readonly agent_id: string;
  readonly client_secret?: string | undefined;
  readonly client_assertion?: string | undefined;
}

export interface AgentAuthenticator {
  authenticate(policy: PolicySnapshot, input: AgentCredentialInput): Promise<AgentDef>;
}

export interface AgentAuthOptions {
  readonly store: Store;
  /** The gateway's tokens.issuer: the `aud` every client assertion must carry (SPEC §4). */
  readonly issuer: string;
  readonly clock: Clock;
}

type JwtCredential = Extract<AgentCredential, { type: 'jwt' }>;

/** SPEC §4: asymmetric algorithms only. Never HS*: an HMAC "key" would be the public key itself. */
export const ASSERTION_ALGORITHMS: readonly string[] = Object.freeze(['EdDSA', 'ES256', 'ES384', 'RS256', 'PS256']);
const ALGORITHMS = [...ASSERTION_ALGORITHMS]; // jose wants a mutable array
/** SPEC §4: `exp` no more than 5 minutes after `iat`. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
const CLOCK_TOLERANCE_SECONDS = 5;
// Compared against when the agent is unknown or has no secret credential, so the work is the same.
const DECOY_DIGEST = sha256Hex('epochgate: no such credential');
// Verified against when the agent is unknown or has no jwt credential: the assertion is still parsed and
// run through jose, so the unknown case does not answer measurably faster than a failed verification.
const DECOY_KEYS = createLocalJWKSet({ keys: [] });

export function createAgentAuthenticator(options: AgentAuthOptions): AgentAuthenticator {
  return { authenticate: (policy, input) => authenticate(options, policy, input) };
}

async function authenticate(options: AgentAuthOptions, policy: PolicySnapshot, input: AgentCredentialInput): Promise<AgentDef> {
  const hasSecret = typeof input.client_secret === 'string';
  const hasAssertion = typeof input.client_assertion === 'string';
  if (hasSecret === hasAssertion) {
    const message = 'exactly one of client_secret and client_assertion is required';
    throw new GatewayError('invalid_request', { detail: message, fields: { errors: [{ path: '', message }] } });
  }
  const agent = policy.agents.get(input.agent_id);
  const now = options.clock.now();
  if (hasSecret) {
    const matched = secretMatches(agent, input.client_secret!);
    if (!agent || !matched) throw credentialInvalid();
    checkAgentState(agent, now);
    return agent;
  }
  return authenticateAssertion(options, agent, input.client_assertion!, now);
}

/** Steps 2 to 5 for a client assertion. */
async function authenticateAssertion(options: AgentAuthOptions, agent: AgentDef | undefined, assertion: string, now: number): Promise<AgentDef> {
  const verified = await verifyAssertion(options.issuer, agent, assertion, now);
  if (!agent || !verified) throw credentialInvalid();
  // Kept until the assertion can no longer pass jwtVerify (exp + tolerance), so a replay inside the
  // tolerance window is still caught; after that the store may forget it (AssertionIdStore.use).
  const expiresAt = (verified.payload.exp! + CLOCK_TOLERANCE_SECONDS) * 1000;
  const first = await options.store.assertionIds.use(`${verified.credential.issuer}\n${verified.payload.jti!}`, expiresAt, now);
  if (!first) throw new GatewayError('assertion_replayed', { detail: 'This client assertion (jti) was already used' });
  checkAgentState(agent, verified.payload.iat! * 1000);
  return agent;
}

/** Steps 4 and 5; `issuedAt` is the assertion's iat, or now for a secret (ms). */
function checkAgentState(agent: AgentDef, issuedAt: number): void {
  if (!agent.enabled) throw new GatewayError('agent_disabled');
  if (agent.notBefore !== null && issuedAt < agent.notBefore) {
    throw credentialInvalid('The credential was issued before the agent not_before');
  }
}

/** The verified claims and the credential that verified them, or null; `audience` is the gateway's issuer. */
async function verifyAssertion(
  audience: string,
  agent: AgentDef | undefined,
  assertion: string,
  now: number,
): Promise<{ credential: JwtCredential; payload: JWTPayload } | null> {
  const credentials = agent?.credentials.filter((c): c is JwtCredential => c.type === 'jwt') ?? [];
  if (credentials.length === 0) {
    await jwtVerify(assertion, DECOY_KEYS, { algorithms: ALGORITHMS }).catch(() => undefined);
    return null;
  }
  let unavailable = false;
  for (const credential of credentials) {
    try {
      const { payload } = await jwtVerify(assertion, credential.keys, {
        issuer: credential.issuer,
        subject: credential.subject,
        audience,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(now),
        requiredClaims: ['jti', 'iat', 'exp'],
        // Also rejects an iat in the future (beyond tolerance): a pre-dated assertion would otherwise
        // stay usable long after it was made and slip past a later not_before.
        maxTokenAge: MAX_ASSERTION_LIFETIME_SECONDS,
      });
      if (typeof payload.jti !== 'string' || payload.jti === '') continue;
      if (payload.exp! - payload.iat! > MAX_ASSERTION_LIFETIME_SECONDS) continue;
      return { credential, payload };
    } catch (err) {
      // Another credential of the same agent may still verify it; remember only whether keys were missing.
      if (assertionFailure(err) === 'key set unavailable') unavailable = true;
    }
  }
  if (unavailable) throw credentialInvalid('key set unavailable');
  return null;
}

/** Step 2 for secrets: constant-time comparison against EVERY secret credential (no early exit). */
function secretMatches(agent: AgentDef | undefined, secret: string): boolean {
  const presented = sha256Hex(secret);
  let matched = false;
  let compared = 0;
  for (const credential of agent?.credentials ?? []) {
    if (credential.type !== 'secret') continue;
    compared++;
    matched = hexDigestEquals(presented, credential.sha256) || matched;
  }
  if (compared === 0) hexDigestEquals(presented, DECOY_DIGEST);
  return matched;
}

/**
 * The ONE place jose errors meet our codes (DESIGN rule 2). Every failure is credential_invalid (SPEC §12:
 * "agent credential does not verify"); the split only decides the detail.
 *
 * A key set that cannot be obtained (remote JWKS unreachable, timed out, or not a JWK set) is ALSO
 * credential_invalid, detail "key set unavailable": it fails closed (SPEC §14) and is the agent's key
 * provider's problem, not the gateway's state store, so store_unavailable (503, "retry us") would point
 * operators at the wrong component.
 */
export function assertionFailure(err: unknown): 'key set unavailable' | 'does not verify' {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
    case 'ERR_JOSE_GENERIC': // remote set: non-200 answer or unparseable body
      return 'key set unavailable';
    case 'ERR_JWT_EXPIRED':
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': // iss, sub, aud, nbf, iat, missing jti/iat/exp
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JOSE_ALG_NOT_ALLOWED': // HS256 and friends
    case 'ERR_JOSE_NOT_SUPPORTED':
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JWK_INVALID':
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'does not verify';
    default:
      // Not a jose error: the fetch of a remote key set failed (TypeError: fetch failed, ECONNREFUSED…).
      return 'key set unavailable';
  }
}

function credentialInvalid(detail = 'The agent credential does not verify'): GatewayError {
  return new GatewayError('credential_invalid', { detail });
}
