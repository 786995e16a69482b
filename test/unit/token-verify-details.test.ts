// Every token_invalid refusal names the check that failed (written for mutation testing, docs/testing.md).
import { sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { b64, claims, expectCode, failure, header, installTokenFixture, keys, NOW_S, rawToken, token, verifier } from '../helpers/token-fixture.js';

installTokenFixture();

describe('exact refusal details (each check names itself; mutation testing)', () => {
  const rawBytes = (headerText: string, claimsBytes: Buffer): string => {
    const input = `${b64(headerText)}.${claimsBytes.toString('base64url')}`;
    return `${input}.${sign(null, Buffer.from(input), keys.signingKey.privateKey).toString('base64url')}`;
  };
  const detail = async (tok: string) => (await expectCode(tok, 'token_invalid')).message;

  it('names the failed check in the detail of every token_invalid refusal', async () => {
    const good = token();
    const [h, p, s] = good.split('.') as [string, string, string];
    const hdr = JSON.stringify(header());
    const rows: [string, string][] = [
      [`${h}.${p}`, 'The token is not a compact JWS'],
      [`*${h}.${p}.${s}`, 'The token is not a compact JWS'],
      [`${h}*.${p}.${s}`, 'The token is not a compact JWS'],
      [`${h}.*${p}.${s}`, 'The token is not a compact JWS'],
      [`${h}.${p}.*${s.slice(1)}`, 'The token is not a compact JWS'],
      [token({ alg: 'ES256' }), 'The token algorithm is not EdDSA'],
      [token({ typ: 'JWT' }), 'The token type is not at+jwt'],
      [token({ kid: 'no-such-key' }), 'The token key is not a gateway key'],
      [`${h}.${p}.${s}A`, 'The token signature does not verify'],
      [`${h}.${p}.${s.slice(0, -1)}B`, 'The token signature does not verify'],
      [`${h}.${p}.${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.at(-1)}`, 'The token signature does not verify'],
      [token({}, { iss: 'x' }), 'The token issuer is not this gateway'],
      [token({}, { aud: 'x' }), 'The token audience is not this gateway'],
      [token({}, { sid: 1 }), 'The token sid, sub and jti must be strings'],
      [token({}, { epoch: 0 }), 'The token epoch must be a positive integer'],
      [token({}, { iat: '1' }), 'The token iat, nbf and exp must be numbers'],
      [token({}, { exp: NOW_S + 86_401 }), 'The token lifetime exceeds 24h'],
      [token({}, { scope: ['a'] }), 'The token scope must be a string'],
      [rawToken('null', JSON.stringify(claims())), 'The token header is not a JSON object'],
      [rawToken(hdr, '[1]'), 'The token claims is not a JSON object'],
      [rawToken(hdr, '"claims"'), 'The token claims is not a JSON object'],
      [rawToken(hdr, '{"a":'), 'The token claims is not valid JSON'],
      [rawToken(hdr, '{"a-b":1,"a-b":2}'), 'The token claims has a duplicate member'],
    ];
    for (const [tok, want] of rows) expect([tok.length > 20 ? tok.slice(-20) : tok, await detail(tok)]).toEqual([tok.length > 20 ? tok.slice(-20) : tok, want]);
  });

  it('refuses a non-string token as token_invalid', async () => {
    const err = await failure(() => verifier.verify(undefined as unknown as string));
    expect([err.code, err.message]).toEqual(['token_invalid', 'The token is too long']);
  });

  it('accepts a token of exactly 8 KiB and refuses one byte more', async () => {
    let exact: string | undefined;
    for (let pad = 5500; pad < 6500 && !exact; pad++) {
      for (const extra of ['', 'x', 'xx']) {
        const t = token({ x: extra }, { pad: 'p'.repeat(pad) });
        if (t.length === 8 * 1024) exact = t;
      }
    }
    expect(exact?.length).toBe(8192);
    expect((await verifier.verify(exact!)).jti).toBe('jti_1');
    expect(await detail(`${exact!}A`)).toBe('The token is too long');
  });

  it('refuses claims that are invalid UTF-8 or hold a time too large for a double', async () => {
    const hdr = JSON.stringify(header());
    const text = JSON.stringify(claims());
    const at = text.indexOf('"bot"'); // "bo\xff" instead of "bot": decoded leniently it would be "bo\ufffd"
    const withBadByte = Buffer.concat([Buffer.from(text.slice(0, at + 3)), Buffer.from([0xff]), Buffer.from(text.slice(at + 4))]);
    expect(await detail(rawBytes(hdr, withBadByte))).toBe('The token claims is not valid JSON');
    expect(await detail(rawToken(hdr, text.replace(`"exp":${NOW_S + 900}`, '"exp":1e400')))).toBe('The token iat, nbf and exp must be numbers');
  });

  it('names a refusal by time exactly: not valid yet, expired', async () => {
    expect((await expectCode(token({}, { nbf: NOW_S + 6 }), 'token_expired')).message).toBe('The token is not valid yet');
    expect((await expectCode(token({}, { iat: NOW_S - 100, nbf: NOW_S - 100, exp: NOW_S - 5 }), 'token_expired')).message).toBe('The token has expired');
  });
});
