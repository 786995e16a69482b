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

  it('names each refusal, and accepts the bounds themselves (epoch 1, a 24 h lifetime)', async () => {
    const epoch = new RangeError('epoch must be a positive integer');
    const scope = new RangeError('scope entries must be non-empty and contain no whitespace');
    await expect(mintSessionToken(keys, { ...input, epoch: 0 })).rejects.toThrow(epoch);
    await expect(mintSessionToken(keys, { ...input, epoch: 1.5 })).rejects.toThrow(epoch);
    await expect(mintSessionToken(keys, { ...input, ttlMs: 24 * 3_600_000 + 1000 })).rejects.toThrow(new RangeError('token ttl exceeds 24h (SPEC §6)'));
    await expect(mintSessionToken(keys, { ...input, scope: ['billing', ''] })).rejects.toThrow(scope);
    await expect(mintSessionToken(keys, { ...input, scope: ['a\tb'] })).rejects.toThrow(scope);
    const longest = await mintSessionToken(keys, { ...input, epoch: 1, ttlMs: 24 * 3_600_000 + 999 });
    expect(longest.exp - longest.iat).toBe(24 * 3600);
    expect(decodeJwt(longest.token).epoch).toBe(1);
  });
});
