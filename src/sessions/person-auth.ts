// People (approvers, admins) authenticate to the control plane with `Authorization: Bearer <secret>`
// (SPEC §4). The caller hands us the single Authorization header value (duplicates are bad_request
// before we are called, SPEC §8). Failures carry the bearer flag: the secret is a bearer credential, so
// the 401 gets an RFC 6750 §3 challenge (SPEC §12).
import { GatewayError } from '../errors/gateway-error.js';
import { bearerCredential } from '../http/authorization.js';
import type { PersonDef, PolicySnapshot } from '../policy/types.js';
import { hexDigestEquals, sha256Hex } from '../util/hash.js';

/**
 * The person whose secret this is. The presented secret's SHA-256 is compared in constant time against
 * every secret of every person, without stopping at a match, so timing reveals neither who matched nor
 * how far the scan got. That is linear in the number of secrets, which is fine for policy-sized sets (tens
 * to hundreds); an index keyed by the digest would be faster but its lookup time would depend on the
 * secret. Nothing derived from a secret is precomputed or cached here.
 */
export function authenticatePerson(policy: PolicySnapshot, authorizationHeader: string | undefined): PersonDef {
  // RFC 6750 §3.1: no credential → challenge without an error code.
  if (authorizationHeader === undefined || authorizationHeader.trim() === '') throw new GatewayError('token_missing');
  const secret = bearerCredential(authorizationHeader);
  if (secret === undefined) throw credentialInvalid('Expected: Authorization: Bearer <secret>');
  const presented = sha256Hex(secret);
  const matches = new Set<PersonDef>();
  for (const person of policy.people.values()) {
    for (const digest of person.secretSha256) {
      if (hexDigestEquals(presented, digest)) matches.add(person);
    }
  }
  // Two people sharing one secret cannot be told apart: refuse rather than pick one (fail closed).
  if (matches.size !== 1) throw credentialInvalid();
  const [person] = matches;
  return person!;
}

function credentialInvalid(detail = 'The credential does not verify'): GatewayError {
  return new GatewayError('credential_invalid', { bearer: true, detail });
}
