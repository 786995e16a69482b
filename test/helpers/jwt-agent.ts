// An agent with an RFC 7523 client-assertion credential (SPEC §4): a workload key pair, its JWKS file, the
// default policy with a jwt credential for billing-bot, and a signer for assertions.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { defaultPolicy } from './gateway.js';

const IDP = 'https://workload-idp.test';
const SUBJECT = 'spiffe://test/billing-bot';

export interface JwtAgent {
  /** The default policy plus a jwt credential for billing-bot (RFC 7523 client assertions, SPEC §4). */
  readonly policy: string;
  assertion(jti: string): Promise<string>;
}

/** Writes workload.jwks.json into `dir` (the policies/ directory's parent) and returns the policy using it. */
export async function jwtAgent(dir: string): Promise<JwtAgent> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  writeFileSync(join(dir, 'workload.jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'w1', alg: 'ES256' }] }));
  const policy = defaultPolicy().replace(
    '  other-bot:',
    `      - type: jwt\n        issuer: "${IDP}"\n        subject: "${SUBJECT}"\n        jwks_file: "../workload.jwks.json"\n  other-bot:`,
  );
  const assertion = (jti: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'w1' })
      .setIssuer(IDP)
      .setSubject(SUBJECT)
      .setAudience('epochgate')
      .setJti(jti)
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(pair.privateKey);
  return { policy, assertion };
}
