// The session token verifier (SPEC §6 steps 2–4): valid tokens, each refusal step, the cache.
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type SigningKeys } from '../../src/sessions/signing-keys.js';
import { mintSessionToken } from '../../src/sessions/token-mint.js';
import { createTokenVerifier } from '../../src/sessions/token-verify.js';
import { b64, claims, clock, expectCode, header, installTokenFixture, keys, NOW_S, rawToken, T0, token, verifier } from '../helpers/token-fixture.js';

installTokenFixture();

describe('createTokenVerifier: valid tokens', () => {
  it('accepts a minted token and returns its claims', async () => {
    const minted = await mintSessionToken(keys, { issuer: 'epochgate', audience: 'gw', agentId: 'bot', sessionId: 'ses_9', epoch: 4, scope: ['billing', 'crm'], ttlMs: 900_000, now: T0 });
    expect(await verifier.verify(minted.token)).toEqual({ jti: minted.jti, sessionId: 'ses_9', agentId: 'bot', epoch: 4, scope: ['billing', 'crm'], iat: NOW_S, nbf: NOW_S, exp: NOW_S + 900 });
  });

  it('accepts aud as an array containing the audience', async () => {
    expect((await verifier.verify(token({}, { aud: ['other', 'gw'] }))).sessionId).toBe('ses_1');
  });

  it('splits an empty scope into no tools', async () => {
    expect((await verifier.verify(token({}, { scope: '' }))).scope).toEqual([]);
  });
});

describe('step 2: format, algorithm, type, key, signature, header members, duplicates → token_invalid', () => {
  it('rejects alg none (unsigned)', async () => {
    await expectCode(`${b64(JSON.stringify({ ...header(), alg: 'none' }))}.${b64(JSON.stringify(claims()))}.`, 'token_invalid');
  });

  it('rejects HS256 keyed with the public key bytes (algorithm confusion)', async () => {
    const jwk = keys.jwks().keys[0]!;
    for (const secret of [Buffer.from(jwk.x, 'base64url'), Buffer.from(JSON.stringify(jwk))]) {
      const input = `${b64(JSON.stringify({ ...header(), alg: 'HS256' }))}.${b64(JSON.stringify(claims()))}`;
      await expectCode(`${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`, 'token_invalid');
    }
  });

  it('rejects a kid that names no gateway key, and a key we do not hold under our kid', async () => {
    await expectCode(token({ kid: 'unknown' }), 'token_invalid');
    await expectCode(token({ kid: 7 }), 'token_invalid');
    const { privateKey } = generateKeyPairSync('ed25519');
    await expectCode(rawToken(JSON.stringify(header()), JSON.stringify(claims()), privateKey), 'token_invalid');
  });

  it('rejects typ other than exactly at+jwt', async () => {
    for (const typ of ['JWT', 'AT+JWT', 'application/at+jwt', undefined]) await expectCode(token({ typ }), 'token_invalid');
  });

  it.each(['jku', 'jwk', 'x5c', 'x5u', 'crit'])('rejects a header carrying %s (never followed)', async (member) => {
    const value = member === 'crit' ? ['exp'] : member === 'jwk' ? keys.jwks().keys[0] : member === 'x5c' ? ['AAAA'] : 'https://evil.example/k';
    const err = await expectCode(token({ [member]: value }), 'token_invalid');
    expect(err.message).toContain(member);
  });

  it('rejects a duplicate "epoch" member in the claims (JSON.parse would keep the last)', async () => {
    const text = JSON.stringify(claims()).replace('"epoch":2', '"epoch":1,"epoch":2');
    expect(JSON.parse(text).epoch).toBe(2);
    expect((await expectCode(rawToken(JSON.stringify(header()), text), 'token_invalid')).message).toMatch(/claims has a duplicate member "epoch"/);
  });

  it('rejects a duplicate "alg" member in the header', async () => {
    const text = `{"alg":"none","alg":"EdDSA","typ":"at+jwt","kid":${JSON.stringify(keys.signingKey.kid)}}`;
    expect((await expectCode(rawToken(text, JSON.stringify(claims())), 'token_invalid')).message).toMatch(/header has a duplicate member "alg"/);
  });

  it('rejects a token over 8 KiB even when validly signed', async () => {
    const big = token({}, { pad: 'x'.repeat(8 * 1024) });
    expect(big.length).toBeGreaterThan(8 * 1024);
    expect((await expectCode(big, 'token_invalid')).message).toMatch(/too long/);
    expect((await verifier.verify(token({}, { pad: 'x'.repeat(5000) }))).jti).toBe('jti_1');
  });

  it('rejects a tampered signature, payload or header', async () => {
    const good = token();
    const [h, p, s] = good.split('.') as [string, string, string];
    const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    await expectCode(`${h}.${p}.${flipped}`, 'token_invalid');
    await expectCode(`${h}.${b64(JSON.stringify(claims({ epoch: 3 })))}.${s}`, 'token_invalid');
    // A non-canonical spelling of the same signature bytes (last char's unused bits set).
    const last = s.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    await expectCode(`${h}.${p}.${s.slice(0, -1)}${sibling}`, 'token_invalid');
  });

  it('rejects malformed compact serialisations', async () => {
    const good = token();
    for (const bad of ['', 'abc', `${good}.x`, good.replace('.', '..'), `${good.split('.')[0]}=.${good.split('.').slice(1).join('.')}`, `eyJ.e30.${'A'.repeat(86)}`]) {
      await expectCode(bad, 'token_invalid');
    }
  });

  it('rejects a header or payload that is not a JSON object', async () => {
    await expectCode(rawToken('[1]', JSON.stringify(claims())), 'token_invalid');
    await expectCode(rawToken(JSON.stringify(header()), '"claims"'), 'token_invalid');
  });
});

describe('step 3: issuer, audience, claim types → token_invalid', () => {
  it('rejects a wrong audience and a wrong issuer', async () => {
    await expectCode(token({}, { aud: 'other' }), 'token_invalid');
    await expectCode(token({}, { aud: ['a', 'b'] }), 'token_invalid');
    await expectCode(token({}, { aud: undefined }), 'token_invalid');
    await expectCode(token({}, { iss: 'someone-else' }), 'token_invalid');
  });

  it.each([[0], ['1'], [1.5], [-1], [null]])('rejects epoch %j', async (epoch) => {
    expect((await expectCode(token({}, { epoch }), 'token_invalid')).message).toMatch(/epoch/);
  });

  it('rejects non-string sid, sub or jti and missing/non-numeric times', async () => {
    for (const c of [{ sid: 1 }, { sub: null }, { jti: undefined }, { iat: '1' }, { nbf: undefined }, { exp: undefined }, { scope: ['a'] }]) {
      await expectCode(token({}, c), 'token_invalid');
    }
  });

  it('rejects exp − iat over 24h (but accepts exactly 24h)', async () => {
    await expectCode(token({}, { exp: NOW_S + 86_401 }), 'token_invalid');
    expect((await verifier.verify(token({}, { exp: NOW_S + 86_400 }))).exp).toBe(NOW_S + 86_400);
  });

  it('decides by the first failing step: a bad issuer on an expired token is token_invalid', async () => {
    await expectCode(token({}, { iss: 'x', exp: NOW_S - 3600, iat: NOW_S - 7200, nbf: NOW_S - 7200 }), 'token_invalid');
  });
});

describe('step 4: nbf and exp with 5 s leeway → token_expired', () => {
  it('rejects a token expired beyond the leeway, accepts one within it', async () => {
    const tok = token({}, { iat: NOW_S - 100, nbf: NOW_S - 100, exp: NOW_S - 4 });
    expect((await verifier.verify(tok)).exp).toBe(NOW_S - 4);
    await expectCode(token({}, { iat: NOW_S - 100, nbf: NOW_S - 100, exp: NOW_S - 5 }), 'token_expired');
    await expectCode(token({}, { iat: NOW_S - 100, nbf: NOW_S - 100, exp: NOW_S - 60 }), 'token_expired');
  });

  it('rejects nbf in the future beyond the leeway, accepts it within', async () => {
    expect((await verifier.verify(token({}, { nbf: NOW_S + 5 }))).nbf).toBe(NOW_S + 5);
    await expectCode(token({}, { nbf: NOW_S + 6 }), 'token_expired');
  });
});

describe('cache', () => {
  it('re-checks time on a cache hit: a cached token is rejected once it expires', async () => {
    const tok = token({}, { exp: NOW_S + 60 });
    const first = await verifier.verify(tok);
    expect(await verifier.verify(tok)).toBe(first); // the same frozen object: a hit
    clock.advance(64_000);
    expect(await verifier.verify(tok)).toBe(first); // within leeway
    clock.advance(1_000);
    await expectCode(tok, 'token_expired');
    clock.set(T0);
    expect(await verifier.verify(tok)).toBe(first);
  });

  it('re-checks nbf on a cache hit too', async () => {
    const tok = token({}, { nbf: NOW_S + 5 });
    await verifier.verify(tok);
    clock.advance(-2_000);
    await expectCode(tok, 'token_expired');
  });

  it('never caches failures', async () => {
    const tok = token({}, { nbf: NOW_S + 30 });
    await expectCode(tok, 'token_expired');
    clock.advance(30_000);
    expect((await verifier.verify(tok)).sessionId).toBe('ses_1');
  });

  it('works with the cache disabled', async () => {
    const uncached = createTokenVerifier({ keys, issuer: 'epochgate', audience: 'gw', clock, cacheSize: 0 });
    const tok = token();
    expect(await uncached.verify(tok)).not.toBe(await uncached.verify(tok));
  });

  it('verifies each token once: a hit re-checks only the kid (no signature check), and the cache is bounded', async () => {
    let lookups = 0;
    const counting: SigningKeys = {
      ...keys,
      publicKeyFor: (kid: string) => {
        lookups++;
        return keys.publicKeyFor(kid);
      },
    };
    const tokens = Array.from({ length: 20 }, (_, i) => token({}, { jti: `jti_${i}` }));
    const cached = createTokenVerifier({ keys: counting, issuer: 'epochgate', audience: 'gw', clock, cacheSize: 20 });
    const first = await Promise.all(tokens.map((t) => cached.verify(t)));
    expect(lookups).toBe(20);
    // A hit answers the very object verified first (nothing re-parsed or re-verified), after asking only
    // whether its kid still names the same key (SPEC §17: a retired key stops verifying cached tokens too).
    for (let round = 0; round < 5; round++) for (const [i, t] of tokens.entries()) expect(await cached.verify(t)).toBe(first[i]);
    expect(lookups).toBe(120);
    // One more token than the cache holds evicts the least recently used one, which is then verified again.
    await cached.verify(token({}, { jti: 'jti_extra' }));
    expect(lookups).toBe(121);
    expect(await cached.verify(tokens[0]!)).not.toBe(first[0]);
    expect(lookups).toBe(122);
    // Without a cache every call is a full verification.
    lookups = 0;
    const uncached = createTokenVerifier({ keys: counting, issuer: 'epochgate', audience: 'gw', clock, cacheSize: 0 });
    for (let i = 0; i < 3; i++) await uncached.verify(tokens[0]!);
    expect(lookups).toBe(3);
  });
});
