// The token verifier under test and what its tests build tokens from: a key file in a temporary directory,
// a ManualClock at T0, and raw signing so duplicates and odd shapes survive. installTokenFixture() registers
// the hooks in the calling test file; the bindings below are live (ES modules), so tests read them directly.
import { sign, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { loadOrCreateSigningKeys, type SigningKeys } from '../../src/sessions/signing-keys.js';
import { createTokenVerifier, type TokenVerifier } from '../../src/sessions/token-verify.js';
import { ManualClock } from '../../src/util/clock.js';

let dir: string;
export let keys: SigningKeys;
export let clock: ManualClock;
export let verifier: TokenVerifier;
export const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
export const NOW_S = T0 / 1000;

export function installTokenFixture(): void {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'epochgate-verify-'));
    keys = await loadOrCreateSigningKeys(join(dir, 'keys.json'), new ManualClock(T0));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  beforeEach(() => {
    clock = new ManualClock(T0);
    verifier = createTokenVerifier({ keys, issuer: 'epochgate', audience: 'gw', clock });
  });
}

export const b64 = (text: string) => Buffer.from(text).toString('base64url');
export const header = () => ({ alg: 'EdDSA', typ: 'at+jwt', kid: keys.signingKey.kid });
export const claims = (over: Record<string, unknown> = {}) => ({
  iss: 'epochgate', aud: 'gw', sub: 'bot', client_id: 'bot', sid: 'ses_1', epoch: 2, scope: 'billing crm', jti: 'jti_1',
  iat: NOW_S, nbf: NOW_S, exp: NOW_S + 900, ...over,
});

/** Signs header and claims TEXT as given (so duplicates and odd shapes survive) with an Ed25519 key. */
export function rawToken(headerText: string, claimsText: string, key: KeyObject = keys.signingKey.privateKey): string {
  const input = `${b64(headerText)}.${b64(claimsText)}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}
export const token = (h: Record<string, unknown> = {}, c: Record<string, unknown> = {}) =>
  rawToken(JSON.stringify({ ...header(), ...h }), JSON.stringify(claims(c)));

export async function failure(fn: () => unknown): Promise<GatewayError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error('expected a GatewayError');
}
export async function expectCode(tok: string, code: 'token_invalid' | 'token_expired'): Promise<GatewayError> {
  const err = await failure(() => verifier.verify(tok));
  expect(err.code).toBe(code);
  expect(err.bearer).toBe(true);
  // Error details never echo the token or any part of it.
  for (const part of [tok, ...tok.split('.')].filter((p) => p.length >= 8)) expect(err.message).not.toContain(part);
  return err;
}
