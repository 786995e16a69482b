// The signing key file at its edges (src/sessions/signing-keys.ts), written for the survivors of a mutation
// run (docs/testing.md): the exact refusal for each malformed file or key, which key signs when iat ties or
// is missing, no temporary file left behind, and the iat a rotated-in key gets.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyInto, generateSigningJwk, loadOrCreateSigningKeys, readSigningKeys, signingKeysFrom, type PrivateSigningJwk } from '../../src/sessions/signing-keys.js';
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
    ['an array', () => '[]', 'is not a JWK set ({"keys": [...]})'],
    ['null', () => 'null', 'is not a JWK set ({"keys": [...]})'],
    ['an empty set', () => '{"keys":[]}', 'holds no keys'],
    ['a key that is an array', () => '{"keys":[[]]}', 'keys[0] is not an object'],
    ['a key that is a string', () => '{"keys":["k"]}', 'keys[0] is not an object'],
    ['kty EC', () => withKey({ kty: 'EC' }), 'keys[0] is not an Ed25519 key (kty OKP, crv Ed25519)'],
    ['crv X25519', () => withKey({ crv: 'X25519' }), 'keys[0] is not an Ed25519 key (kty OKP, crv Ed25519)'],
    ['x with a character before it', () => withKey({ x: `*${good.x}` }), 'keys[0].x is missing or not base64url'],
    ['x with a character after it', () => withKey({ x: `${good.x}=` }), 'keys[0].x is missing or not base64url'],
    ['no d', () => withKey({ d: undefined }), 'keys[0] has no private part (d); the key file must hold private keys'],
    ['a numeric d', () => withKey({ d: 5 }), 'keys[0].d is not base64url'],
    ['alg ES256', () => withKey({ alg: 'ES256' }), 'keys[0].alg must be EdDSA'],
    ['use enc', () => withKey({ use: 'enc' }), 'keys[0].use must be sig'],
    ['an empty kid', () => withKey({ kid: '' }), 'keys[0].kid is missing'],
    ['a string iat', () => withKey({ iat: '1' }), 'keys[0].iat must be a number (seconds)'],
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

  it('refuses a file that does not exist, and accepts a key without alg, use or iat', async () => {
    await expect(readSigningKeys(path)).rejects.toThrow(new Error(`signing key file ${path} does not exist`));
    await writeFile(path, JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: good.x, d: good.d, kid: 'bare' }] }));
    expect((await readSigningKeys(path)).signingKey.kid).toBe('bare');
  });
});

describe('signingKeysFrom: the newest key', () => {
  it('gives a tie in iat to the later key, and a key without iat to any key with one, in either order', () => {
    expect(signingKeysFrom([good, other], 'mem').signingKey.kid).toBe(other.kid);
    const { iat: _g, ...goodNoIat } = good;
    const { iat: _o, ...otherNoIat } = other;
    expect(signingKeysFrom([{ ...good, iat: 100 }, otherNoIat], 'mem').signingKey.kid).toBe(good.kid);
    expect(signingKeysFrom([goodNoIat, { ...other, iat: 100 }], 'mem').signingKey.kid).toBe(other.kid);
    expect(signingKeysFrom([goodNoIat, otherNoIat], 'mem').signingKey.kid).toBe(other.kid);
  });

  it('refuses an empty list', () => {
    expect(() => signingKeysFrom([], 'mem')).toThrow(new Error('signing key file mem holds no keys'));
  });
});

describe('writing the key file', () => {
  it('leaves no temporary file behind, creating the file or rotating a key into it', async () => {
    await loadOrCreateSigningKeys(path, clock);
    expect(await readdir(dir)).toEqual(['keys.json']);
    await generateKeyInto(path, clock);
    expect(await readdir(dir)).toEqual(['keys.json']);
  });
});

describe('generateKeyInto: the iat of a rotated-in key', () => {
  it('is the time of creation when every existing key is older', async () => {
    await writeFile(path, JSON.stringify({ keys: [{ ...good, iat: 5 }] }));
    await generateKeyInto(path, clock);
    const file = JSON.parse(await readFile(path, 'utf8')) as { keys: PrivateSigningJwk[] };
    expect(file.keys.map((k) => k.iat)).toEqual([5, Math.floor(clock.now() / 1000)]);
  });
});
