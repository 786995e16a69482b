import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runKeysGenerate } from '../../src/cli/keys-generate.js';
import { generateKeyInto, loadOrCreateSigningKeys } from '../../src/sessions/signing-keys.js';
import { mintSessionToken } from '../../src/sessions/token-mint.js';
import { createTokenVerifier } from '../../src/sessions/token-verify.js';
import { ManualClock } from '../../src/util/clock.js';

let dir: string;
const clock = new ManualClock();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'epochgate-keys-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const mint = (keys: Awaited<ReturnType<typeof loadOrCreateSigningKeys>>) =>
  mintSessionToken(keys, { issuer: 'epochgate', audience: 'epochgate', agentId: 'a', sessionId: 'ses_x', epoch: 1, scope: ['t'], ttlMs: 60_000, now: clock.now() });

describe('loadOrCreateSigningKeys', () => {
  it('creates a missing key file (and its directory) with mode 0600 holding one private Ed25519 key', async () => {
    const path = join(dir, 'nested', 'var', 'keys.json');
    const keys = await loadOrCreateSigningKeys(path, clock);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const file = JSON.parse(await readFile(path, 'utf8')) as { keys: Record<string, unknown>[] };
    expect(file.keys).toHaveLength(1);
    expect(file.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', kid: keys.signingKey.kid, iat: Math.floor(clock.now() / 1000) });
    expect(typeof file.keys[0]!.d).toBe('string');
    expect(keys.signingKey.kid).toMatch(/^[A-Za-z0-9_-]{43}$/); // RFC 7638 SHA-256 thumbprint
    expect(keys.publicKeyFor(keys.signingKey.kid)?.asymmetricKeyType).toBe('ed25519');
    expect(keys.publicKeyFor('other')).toBeUndefined();
  });

  it('reloads an existing file identically and never rewrites it', async () => {
    const path = join(dir, 'keys.json');
    const first = await loadOrCreateSigningKeys(path, clock);
    const before = await readFile(path, 'utf8');
    const second = await loadOrCreateSigningKeys(path, clock);
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(second.signingKey.kid).toBe(first.signingKey.kid);
    expect(second.jwks()).toEqual(first.jwks());
    // A token signed under the first load verifies under the second.
    const { token } = await mint(first);
    expect((await createTokenVerifier({ keys: second, issuer: 'epochgate', audience: 'epochgate', clock }).verify(token)).sessionId).toBe('ses_x');
  });

  it.each([
    ['not JSON', 'not json {'],
    ['not a JWK set', '{"kid":"x"}'],
    ['an empty set', '{"keys":[]}'],
    ['a non-Ed25519 key', '{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA","kid":"k"}]}'],
    ['a public key only', '{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k"}]}'],
    ['a broken private key', '{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"AAAA","kid":"k"}]}'],
    ['duplicate members', '{"keys":[],"keys":[]}'],
  ])('fails closed on %s, naming the path and leaving the file untouched', async (_name, content) => {
    const path = join(dir, 'keys.json');
    await writeFile(path, content, { mode: 0o600 });
    await expect(loadOrCreateSigningKeys(path, clock)).rejects.toThrow(path);
    expect(await readFile(path, 'utf8')).toBe(content);
  });

  it('rejects a key whose x does not belong to its d', async () => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    await loadOrCreateSigningKeys(a, clock);
    await loadOrCreateSigningKeys(b, clock);
    const ka = JSON.parse(await readFile(a, 'utf8')) as { keys: Record<string, unknown>[] };
    const kb = JSON.parse(await readFile(b, 'utf8')) as { keys: Record<string, unknown>[] };
    ka.keys[0]!.x = kb.keys[0]!.x;
    await writeFile(a, JSON.stringify(ka));
    await expect(loadOrCreateSigningKeys(a, clock)).rejects.toThrow(/x does not match d/);
  });

  it('does not leak key material in the error for a corrupt file', async () => {
    const path = join(dir, 'keys.json');
    await loadOrCreateSigningKeys(path, clock);
    const text = await readFile(path, 'utf8');
    const d = (JSON.parse(text) as { keys: { d: string }[] }).keys[0]!.d;
    await writeFile(path, text.slice(0, text.indexOf(d) + 20)); // truncated mid-key
    const err = await loadOrCreateSigningKeys(path, clock).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).not.toContain(d.slice(0, 20));
  });

  it('fails closed on an unreadable file', async () => {
    // A directory at the path is unreadable as a file for every user, root included (EISDIR).
    const path = join(dir, 'keys.json');
    await mkdir(path);
    await expect(loadOrCreateSigningKeys(path, clock)).rejects.toThrow(/keys\.json cannot be read/);
  });
});

describe('rotation', () => {
  it('signs with the newest key; tokens of the older key still verify; jwks lists both without d', async () => {
    const path = join(dir, 'keys.json');
    const old = await loadOrCreateSigningKeys(path, clock);
    const oldToken = (await mint(old)).token;
    clock.advance(1000);
    const { kid, count } = await generateKeyInto(path, clock);
    expect(count).toBe(2);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const keys = await loadOrCreateSigningKeys(path, clock);
    expect(keys.signingKey.kid).toBe(kid);
    expect(kid).not.toBe(old.signingKey.kid);

    const jwks = keys.jwks();
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual([kid, old.signingKey.kid].sort());
    for (const key of jwks.keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
      expect(key).not.toHaveProperty('d');
    }
    expect(JSON.stringify(jwks)).not.toContain('"d"');

    const verifier = createTokenVerifier({ keys, issuer: 'epochgate', audience: 'epochgate', clock });
    expect((await verifier.verify(oldToken)).agentId).toBe('a');
    const newToken = (await mint(keys)).token;
    expect(JSON.parse(Buffer.from(newToken.split('.')[0]!, 'base64url').toString()).kid).toBe(kid);
    expect((await verifier.verify(newToken)).agentId).toBe('a');
  });

  it('picks the highest iat even when it is not last in the file', async () => {
    const path = join(dir, 'keys.json');
    await loadOrCreateSigningKeys(path, clock);
    await generateKeyInto(path, clock);
    const file = JSON.parse(await readFile(path, 'utf8')) as { keys: { kid: string; iat: number }[] };
    const newest = file.keys[1]!;
    await writeFile(path, JSON.stringify({ keys: [newest, file.keys[0]] }));
    expect((await loadOrCreateSigningKeys(path, clock)).signingKey.kid).toBe(newest.kid);
  });

  it('refuses to append to a corrupt file', async () => {
    const path = join(dir, 'keys.json');
    await writeFile(path, 'garbage');
    await expect(generateKeyInto(path, clock)).rejects.toThrow(path);
    expect(await readFile(path, 'utf8')).toBe('garbage');
  });
});

describe('epochgate keys generate', () => {
  const capture = () => {
    const out = { stdout: '', stderr: '' };
    return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
  };

  it('appends a key and prints only its kid (never the private key)', async () => {
    const path = join(dir, 'keys.json');
    const first = capture();
    expect(await runKeysGenerate(['--keys', path], first.io)).toBe(0);
    const second = capture();
    expect(await runKeysGenerate([`--keys=${path}`], second.io)).toBe(0);
    const file = JSON.parse(await readFile(path, 'utf8')) as { keys: { kid: string; d: string }[] };
    expect(file.keys.map((k) => k.kid)).toEqual([first.out.stdout.trim(), second.out.stdout.trim()]);
    for (const key of file.keys) {
      expect(first.out.stdout + first.out.stderr + second.out.stdout + second.out.stderr).not.toContain(key.d);
    }
  });

  it('prints help with exit 0 and rejects bad usage with exit 2', async () => {
    const help = capture();
    expect(await runKeysGenerate(['--help'], help.io)).toBe(0);
    expect(help.out.stdout).toContain('Usage: epochgate keys generate');
    const bad = capture();
    expect(await runKeysGenerate(['--bogus'], bad.io)).toBe(2);
    expect(await runKeysGenerate(['--keys'], capture().io)).toBe(2);
  });

  it('exits 1 on a corrupt key file', async () => {
    const path = join(dir, 'keys.json');
    await writeFile(path, '{');
    const run = capture();
    expect(await runKeysGenerate(['--keys', path], run.io)).toBe(1);
    expect(run.out.stderr).toContain(path);
  });
});
