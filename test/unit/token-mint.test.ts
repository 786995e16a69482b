import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateSigningKeys, type SigningKeys } from '../../src/sessions/signing-keys.js';
import { mintSessionToken } from '../../src/sessions/token-mint.js';
import { ManualClock } from '../../src/util/clock.js';

let dir: string;
let keys: SigningKeys;
const clock = new ManualClock();
const input = { issuer: 'epochgate', audience: 'gw-aud', agentId: 'billing-bot', sessionId: 'ses_abc', epoch: 3, scope: ['billing', 'crm'], ttlMs: 15 * 60_000, now: clock.now() + 999 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'epochgate-mint-'));
  keys = await loadOrCreateSigningKeys(join(dir, 'keys.json'), clock);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('mintSessionToken', () => {
  it('issues an EdDSA at+jwt with every SPEC §6 claim', async () => {
    const minted = await mintSessionToken(keys, input);
    expect(decodeProtectedHeader(minted.token)).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: keys.signingKey.kid });
    const iat = Math.floor(input.now / 1000);
    expect(decodeJwt(minted.token)).toEqual({
      iss: 'epochgate', aud: 'gw-aud', sub: 'billing-bot', client_id: 'billing-bot', sid: 'ses_abc', epoch: 3,
      scope: 'billing crm', jti: minted.jti, iat, nbf: iat, exp: iat + 900,
    });
    expect(minted).toMatchObject({ iat, exp: iat + 900 });
    expect(minted.jti).toMatch(/^jti_/);
    // And a standard library agrees the signature is good.
    const publicKey = keys.publicKeyFor(keys.signingKey.kid)!;
    const verified = await jwtVerify(minted.token, publicKey, { currentDate: new Date(input.now) });
    expect(verified.protectedHeader).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: keys.signingKey.kid });
    expect(verified.payload).toEqual(decodeJwt(minted.token));
  });

  it('gives every token a new jti', async () => {
    const a = await mintSessionToken(keys, input);
    const b = await mintSessionToken(keys, input);
    expect(a.jti).not.toBe(b.jti);
  });

  it('refuses lifetimes over 24h, bad epochs and scope entries with spaces', async () => {
    await expect(mintSessionToken(keys, { ...input, ttlMs: 24 * 3_600_000 + 1000 })).rejects.toThrow(RangeError);
    await expect(mintSessionToken(keys, { ...input, epoch: 0 })).rejects.toThrow(RangeError);
    await expect(mintSessionToken(keys, { ...input, scope: ['a b'] })).rejects.toThrow(RangeError);
  });

  it('names each refusal, accepts exactly 24 h, and refuses an empty scope entry', async () => {
    await expect(mintSessionToken(keys, { ...input, epoch: 0 })).rejects.toThrow(new RangeError('epoch must be a positive integer'));
    await expect(mintSessionToken(keys, { ...input, ttlMs: 24 * 3_600_000 + 1000 })).rejects.toThrow(new RangeError('token ttl exceeds 24h (SPEC §6)'));
    await expect(mintSessionToken(keys, { ...input, scope: ['crm', ''] })).rejects.toThrow(new RangeError('scope entries must be non-empty and contain no whitespace'));
    const day = await mintSessionToken(keys, { ...input, ttlMs: 24 * 3_600_000 });
    expect(day.exp - day.iat).toBe(86_400);
  });
});
