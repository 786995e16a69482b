// Reading the signing key file (src/sessions/signing-keys.ts): the exact refusal for each malformed file or
// key (the operator reads it at start-up), what a bare key is read as, and which key signs when iat differs,
// ties or is missing. Creating and appending: test/unit/signing-key-writes.test.ts.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateSigningJwk, readSigningKeys, signingKeysFrom, type PrivateSigningJwk } from '../../src/sessions/signing-keys.js';
import { ManualClock } from '../../src/util/clock.js';

const clock = new ManualClock();
let dir: string;
let path: string;
let good: PrivateSigningJwk;
let other: PrivateSigningJwk;

beforeAll(async () => {
  good = await generateSigningJwk(clock);
  other = await generateSigningJwk(clock);
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'epochgate-keyfile-'));
  path = join(dir, 'keys.json');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const withKey = (over: Record<string, unknown>): string => JSON.stringify({ keys: [{ ...good, ...over }] });
const refusal = async (content: string): Promise<Error> => {
  await writeFile(path, content, { mode: 0o600 });
  const err = await readSigningKeys(path).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  return err as Error;
};

describe('readSigningKeys: each refusal with its own message', () => {
  it.each([
    ['not JSON', () => 'not json {', 'is not valid JSON'],
    ['cut-off JSON', () => '{"keys": [', 'is not valid JSON'],
    ['a number', () => '1', 'is not a JWK set ({"keys": [...]})'],
    ['an array', () => '[]', 'is not a JWK set ({"keys": [...]})'],
    ['null', () => 'null', 'is not a JWK set ({"keys": [...]})'],
    ['keys that is not an array', () => '{"keys":{}}', 'is not a JWK set ({"keys": [...]})'],
    ['an empty set', () => '{"keys":[]}', 'holds no keys'],
    ['a key that is an array', () => '{"keys":[[]]}', 'keys[0] is not an object'],
    ['a key that is a string', () => '{"keys":["k"]}', 'keys[0] is not an object'],
    ['a second key that is a number', () => JSON.stringify({ keys: [good, 1] }), 'keys[1] is not an object'],
    ['a second key that is null', () => JSON.stringify({ keys: [good, null] }), 'keys[1] is not an object'],
    ['kty EC', () => withKey({ kty: 'EC' }), 'keys[0] is not an Ed25519 key (kty OKP, crv Ed25519)'],
    ['crv X25519', () => withKey({ crv: 'X25519' }), 'keys[0] is not an Ed25519 key (kty OKP, crv Ed25519)'],
    ['a numeric x', () => withKey({ x: 1 }), 'keys[0].x is missing or not base64url'],
    ['x with a character before it', () => withKey({ x: `*${good.x}` }), 'keys[0].x is missing or not base64url'],
    ['x with a character after it', () => withKey({ x: `${good.x}=` }), 'keys[0].x is missing or not base64url'],
    ['no d', () => withKey({ d: undefined }), 'keys[0] has no private part (d); the key file must hold private keys'],
    ['a numeric d', () => withKey({ d: 5 }), 'keys[0].d is not base64url'],
    ['d with a character after it', () => withKey({ d: `${good.d}+` }), 'keys[0].d is not base64url'],
    ['alg ES256', () => withKey({ alg: 'ES256' }), 'keys[0].alg must be EdDSA'],
    ['use enc', () => withKey({ use: 'enc' }), 'keys[0].use must be sig'],
    ['no kid', () => withKey({ kid: undefined }), 'keys[0].kid is missing'],
    ['an empty kid', () => withKey({ kid: '' }), 'keys[0].kid is missing'],
    ['a numeric kid', () => withKey({ kid: 7 }), 'keys[0].kid is missing'],
    ['a string iat', () => withKey({ iat: '1' }), 'keys[0].iat must be a number (seconds)'],
    ['an iat that overflows to Infinity', () => withKey({}).replace(/"iat":\d+/, '"iat":1e999'), 'keys[0].iat must be a number (seconds)'],
    ['a bad second key', () => JSON.stringify({ keys: [good, { ...other, use: 'enc' }] }), 'keys[1].use must be sig'],
  ])('refuses %s', async (_name, content, problem) => {
    const err = await refusal(content());
    expect(err.message).toBe(`signing key file ${path} ${problem}`);
    expect(err.cause).toBeUndefined();
  });

  it('refuses two keys with one kid, naming the kid', async () => {
    const err = await refusal(JSON.stringify({ keys: [good, { ...other, kid: good.kid }] }));
    expect(err.message).toBe(`signing key file ${path} holds two keys with kid ${JSON.stringify(good.kid)}`);
  });

  it('names a duplicate member, and keeps the cause of a key that cannot be imported', async () => {
    expect((await refusal('{"keys":[],"keys":[]}')).message).toBe(`signing key file ${path} is not valid JSON (duplicate member name "keys" in the top-level object)`);
    const broken = await refusal(withKey({ d: 'AAAA' }));
    expect(broken.message).toMatch(new RegExp(`^signing key file ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} holds a key that cannot be imported: .+`));
    expect(broken.cause).toBeInstanceOf(Error);
  });

  it('refuses a file that does not exist, and never creates one', async () => {
    await expect(readSigningKeys(path)).rejects.toThrow(new Error(`signing key file ${path} does not exist`));
    expect(await readdir(dir)).toEqual([]);
  });

  it('accepts a key without alg, use or iat, and keeps only the known members', async () => {
    await writeFile(path, JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: good.x, d: good.d, kid: 'bare', extra: 'ignored' }] }));
    const keys = await readSigningKeys(path);
    expect(keys.signingKey.kid).toBe('bare');
    expect(keys.jwks()).toEqual({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: good.x, kid: 'bare', alg: 'EdDSA', use: 'sig' }] });
  });
});

describe('signingKeysFrom: the newest key', () => {
  it('the highest iat signs; a key without iat counts as oldest, in either order; a tie goes to the later key', () => {
    const { iat: _g, ...goodNoIat } = good;
    const { iat: _o, ...otherNoIat } = other;
    expect(signingKeysFrom([{ ...good, iat: 5 }, { ...other, iat: 4 }], 'mem').signingKey.kid).toBe(good.kid);
    expect(signingKeysFrom([{ ...good, iat: 100 }, otherNoIat], 'mem').signingKey.kid).toBe(good.kid);
    expect(signingKeysFrom([goodNoIat, { ...other, iat: 100 }], 'mem').signingKey.kid).toBe(other.kid);
    expect(signingKeysFrom([otherNoIat, { ...good, iat: -5 }], 'mem').signingKey.kid).toBe(good.kid);
    expect(signingKeysFrom([goodNoIat, otherNoIat], 'mem').signingKey.kid).toBe(other.kid);
    expect(signingKeysFrom([{ ...good, iat: 5 }, { ...other, iat: 5 }], 'mem').signingKey.kid).toBe(other.kid);
    expect(signingKeysFrom([good, other], 'mem').signingKey.kid).toBe(other.kid);
  });

  it('refuses an empty list', () => {
    expect(() => signingKeysFrom([], 'mem')).toThrow(new Error('signing key file mem holds no keys'));
  });
});
