// Creating and appending to the signing key file (src/sessions/signing-keys.ts): the cause kept when the file
// cannot be read, created or written, the directory's mode, no temporary file left behind, and the iat an
// appended key gets so it signs next. Reading and parsing: test/unit/signing-key-file.test.ts.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  generateKeyInto,
  generateSigningJwk,
  loadOrCreateSigningKeys,
  readSigningKeys,
  type PrivateSigningJwk,
} from '../../src/sessions/signing-keys.js';
import { ManualClock } from '../../src/util/clock.js';

const clock = new ManualClock(Date.UTC(2026, 11, 1, 12, 0, 0));
let dir: string;
let path: string;
let a: PrivateSigningJwk;

beforeAll(async () => {
  a = await generateSigningJwk(clock);
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'epochgate-key-writes-'));
  path = join(dir, 'keys.json');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const withKey = (key: Record<string, unknown>) => JSON.stringify({ keys: [key] });
const fileError = (problem: string) => `signing key file ${path} ${problem}`;

describe('failures to read or write the file, with their cause', () => {
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
