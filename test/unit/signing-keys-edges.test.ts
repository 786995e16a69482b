// The key file's refusals, each with its exact message (the operator reads it at start-up), which key signs,
// and what creating and appending leave on disk.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  generateKeyInto,
  generateSigningJwk,
  loadOrCreateSigningKeys,
  readSigningKeys,
  signingKeysFrom,
  type PrivateSigningJwk,
} from '../../src/sessions/signing-keys.js';
import { ManualClock } from '../../src/util/clock.js';

const clock = new ManualClock(Date.UTC(2026, 11, 1, 12, 0, 0));
let dir: string;
let path: string;
let a: PrivateSigningJwk;
let b: PrivateSigningJwk;

beforeAll(async () => {
  a = await generateSigningJwk(clock);
  b = await generateSigningJwk(clock);
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'epochgate-key-edges-'));
  path = join(dir, 'keys.json');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** The message a load of `content` fails with. */
async function refusal(content: string): Promise<string> {
  await writeFile(path, content);
  const err = await loadOrCreateSigningKeys(path, clock).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err).toBeInstanceOf(Error);
  return (err as Error).message;
}
const withKey = (key: Record<string, unknown>) => JSON.stringify({ keys: [key] });
const fileError = (problem: string) => `signing key file ${path} ${problem}`;

describe('key file refusals', () => {
  it.each([
    ['a number', '1'],
    ['an array', '[]'],
    ['null', 'null'],
    ['keys not an array', '{"keys":{}}'],
  ])('%s is not a JWK set', async (_name, content) => {
    expect(await refusal(content)).toBe(fileError('is not a JWK set ({"keys": [...]})'));
  });

  it('says what is wrong with invalid JSON, a duplicate member included, and nothing else', async () => {
    expect(await refusal('{"keys": [')).toBe(fileError('is not valid JSON'));
    expect(await refusal('{"keys":[],"keys":[]}')).toBe(fileError('is not valid JSON (duplicate member name "keys" in the top-level object)'));
    expect(await refusal('{"keys":[]}')).toBe(fileError('holds no keys'));
  });

  it.each([
    ['a number', 1],
    ['null', null],
    ['an array', []],
  ])('names the index of an entry that is %s', async (_name, entry) => {
    expect(await refusal(JSON.stringify({ keys: [a, entry] }))).toBe(fileError('keys[1] is not an object'));
  });

  it('refuses each malformed member with its own message', async () => {
    const notEd25519 = 'keys[0] is not an Ed25519 key (kty OKP, crv Ed25519)';
    expect(await refusal(withKey({ ...a, kty: 'EC' }))).toBe(fileError(notEd25519));
    expect(await refusal(withKey({ ...a, crv: 'X25519' }))).toBe(fileError(notEd25519));
    for (const x of [1, `*${a.x}`, `${a.x}*`]) {
      expect(await refusal(withKey({ ...a, x }))).toBe(fileError('keys[0].x is missing or not base64url'));
    }
    expect(await refusal(withKey({ ...a, d: undefined }))).toBe(
      fileError('keys[0] has no private part (d); the key file must hold private keys'),
    );
    for (const d of [1, `${a.d}+`]) expect(await refusal(withKey({ ...a, d }))).toBe(fileError('keys[0].d is not base64url'));
    expect(await refusal(withKey({ ...a, alg: 'ES256' }))).toBe(fileError('keys[0].alg must be EdDSA'));
    expect(await refusal(withKey({ ...a, use: 'enc' }))).toBe(fileError('keys[0].use must be sig'));
    for (const kid of [undefined, '', 7]) expect(await refusal(withKey({ ...a, kid }))).toBe(fileError('keys[0].kid is missing'));
    expect(await refusal(withKey({ ...a, iat: '1' }))).toBe(fileError('keys[0].iat must be a number (seconds)'));
    expect(await refusal(withKey({ ...a }).replace(/"iat":\d+/, '"iat":1e999'))).toBe(fileError('keys[0].iat must be a number (seconds)'));
  });

  it('accepts a key without alg, use or iat, and keeps only the known members', async () => {
    const { alg: _alg, use: _use, iat: _iat, ...bare } = a;
    await writeFile(path, withKey({ ...bare, extra: 'ignored' }));
    const keys = await readSigningKeys(path);
    expect(keys.signingKey.kid).toBe(a.kid);
    expect(keys.jwks()).toEqual({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: a.x, kid: a.kid, alg: 'EdDSA', use: 'sig' }] });
  });

  it('names an unimportable key and a duplicate kid', async () => {
    expect(await refusal(withKey({ ...a, d: 'AAAA' }))).toMatch(
      new RegExp(`^signing key file ${path.replace(/[.]/g, '\\.')} holds a key that cannot be imported: .+`),
    );
    expect(await refusal(JSON.stringify({ keys: [a, { ...b, kid: a.kid }] }))).toBe(fileError(`holds two keys with kid "${a.kid}"`));
    expect(() => signingKeysFrom([], 'memory')).toThrow(new Error('signing key file memory holds no keys'));
  });

  it('keeps the cause of a failed read, and gives none where there is none', async () => {
    await mkdir(path);
    const unreadable = (await loadOrCreateSigningKeys(path, clock).catch((e: unknown) => e)) as Error;
    expect([unreadable.message.startsWith(fileError('cannot be read: ')), (unreadable.cause as NodeJS.ErrnoException).code]).toEqual([true, 'EISDIR']);
    const empty = join(dir, 'empty.json');
    await writeFile(empty, '{"keys":[]}');
    const noKeys = (await loadOrCreateSigningKeys(empty, clock).catch((e: unknown) => e)) as Error;
    expect([noKeys.message, Object.hasOwn(noKeys, 'cause')]).toEqual([`signing key file ${empty} holds no keys`, false]);
  });

  it('names a key file that cannot be created or written, with the cause', async () => {
    // The name itself is valid, but the temporary file beside it (name + 17 characters) is too long.
    const long = join(dir, 'k'.repeat(250));
    for (const [run, problem] of [
      [() => loadOrCreateSigningKeys(long, clock), 'could not be created'],
      [() => generateKeyInto(long, clock), 'could not be written'],
    ] as const) {
      const err = (await run().catch((e: unknown) => e)) as Error;
      expect([err.message.startsWith(`signing key file ${long} ${problem}: `), (err.cause as NodeJS.ErrnoException).code]).toEqual([true, 'ENAMETOOLONG']);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('readSigningKeys never creates a file', async () => {
    await expect(readSigningKeys(path)).rejects.toThrow(new Error(fileError('does not exist')));
    await expect(readdir(dir)).resolves.toEqual([]);
  });
});

describe('which key signs', () => {
  it('the highest iat; a key without iat counts as oldest; a tie goes to the later key', () => {
    const { iat: _ia, ...aNoIat } = a;
    const { iat: _ib, ...bNoIat } = b;
    expect(signingKeysFrom([{ ...a, iat: 5 }, { ...b, iat: 4 }], 'm').signingKey.kid).toBe(a.kid);
    expect(signingKeysFrom([{ ...a, iat: 5 }, bNoIat], 'm').signingKey.kid).toBe(a.kid);
    expect(signingKeysFrom([bNoIat, { ...a, iat: -5 }], 'm').signingKey.kid).toBe(a.kid);
    expect(signingKeysFrom([aNoIat, bNoIat], 'm').signingKey.kid).toBe(b.kid);
    expect(signingKeysFrom([{ ...a, iat: 5 }, { ...b, iat: 5 }], 'm').signingKey.kid).toBe(b.kid);
  });
});

describe('writing the key file', () => {
  it('creates its directory with mode 0700 and leaves no temporary file behind', async () => {
    const nested = join(dir, 'var', 'keys.json');
    await loadOrCreateSigningKeys(nested, clock);
    expect((await stat(join(dir, 'var'))).mode & 0o777).toBe(0o700);
    expect(await readdir(join(dir, 'var'))).toEqual(['keys.json']);
    await generateKeyInto(nested, clock);
    expect(await readdir(join(dir, 'var'))).toEqual(['keys.json']);
    expect(await readFile(nested, 'utf8')).toMatch(/^\{\n {2}"keys": \[\n[^]*\n\}\n$/);
  });

  it('keeps an appended key the newest when a key in the file carries a later iat', async () => {
    const ahead = Math.floor(clock.now() / 1000) + 3600;
    await writeFile(path, withKey({ ...a, iat: ahead }));
    const added = await generateKeyInto(path, clock);
    expect(added.count).toBe(2);
    const file = JSON.parse(await readFile(path, 'utf8')) as { keys: PrivateSigningJwk[] };
    expect(file.keys.map((k) => [k.kid, k.iat])).toEqual([
      [a.kid, ahead],
      [added.kid, ahead + 1],
    ]);
    expect((await readSigningKeys(path)).signingKey.kid).toBe(added.kid);
  });

  it('moves an appended key one second past a key created in the same second', async () => {
    const now = Math.floor(clock.now() / 1000);
    await writeFile(path, withKey({ ...a, iat: now }));
    await generateKeyInto(path, clock);
    const file = JSON.parse(await readFile(path, 'utf8')) as { keys: PrivateSigningJwk[] };
    expect(file.keys.map((k) => k.iat)).toEqual([now, now + 1]);
  });

  it('stamps an appended key with the clock when it is already the newest', async () => {
    await writeFile(path, withKey({ ...a, iat: 10 }));
    const added = await generateKeyInto(path, clock);
    const file = JSON.parse(await readFile(path, 'utf8')) as { keys: PrivateSigningJwk[] };
    expect(file.keys[1]).toMatchObject({ kid: added.kid, iat: Math.floor(clock.now() / 1000) });
  });
});
