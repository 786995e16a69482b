// The gateway's session-token signing keys (SPEC §2 `tokens.keys`, §6).
//
// The file is a JWK set (RFC 7517 §5) of PRIVATE Ed25519 keys (RFC 8037). Several keys may be present so a
// key can be rotated in without invalidating tokens already out: the newest key signs, every key verifies,
// and /.well-known/jwks.json publishes the public halves of all of them.
//
// Fail closed (SPEC §14): a file that exists but cannot be read or does not hold valid Ed25519 private keys
// is a start-up error naming the path. It is never overwritten, because replacing it would silently
// invalidate every token already issued — and would hide an operator's mistake.
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { systemClock, type Clock } from '../util/clock.js';
import { DuplicateKeyError, parseStrictJson } from '../util/strict-json.js';

/** A private key as stored in the key file. `iat` = creation time in seconds (newest signs). */
export interface PrivateSigningJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
  readonly d: string;
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly use: 'sig';
  readonly iat?: number;
}

/** What /.well-known/jwks.json publishes: never `d`. */
export interface PublicSigningJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly use: 'sig';
}

export interface SigningKeys {
  /** The newest key; every token is signed with it. */
  readonly signingKey: { readonly kid: string; readonly privateKey: KeyObject };
  /** Public key for a `kid`, prepared once at load (DESIGN rule 3); undefined = not a gateway key. */
  publicKeyFor(kid: string): KeyObject | undefined;
  /** The public JWK set (RFC 7517 §5), frozen. */
  jwks(): { readonly keys: readonly PublicSigningJwk[] };
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/** Loads the key file, or creates it with one new key when it does not exist. */
export async function loadOrCreateSigningKeys(path: string, clock: Clock): Promise<SigningKeys> {
  const existing = await readKeyFile(path);
  if (existing) return signingKeysFrom(existing, path);
  const created = [await generateSigningJwk(clock)];
  try {
    // link() refuses to replace a file: if another process created the key file meanwhile, we use theirs
    // rather than overwrite keys that may already have signed tokens.
    await writeKeyFileAtomically(path, created, 'no-replace');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw keyFileError(path, 'could not be created', err);
    const raced = await readKeyFile(path);
    if (!raced) throw keyFileError(path, 'disappeared while being created');
    return signingKeysFrom(raced, path);
  }
  return signingKeysFrom(created, path);
}

/** Reads the key file without ever creating it (`audit verify --config`: no file means no keys to check
 *  with, an error, never a new key). */
export async function readSigningKeys(path: string): Promise<SigningKeys> {
  const keys = await readKeyFile(path);
  if (!keys) throw keyFileError(path, 'does not exist');
  return signingKeysFrom(keys, path);
}

/** Appends a new key to the key file (creating it if absent) and returns its kid. Used by
 *  `epochgate keys generate` for rotation; a running gateway picks the key up on SIGHUP (key-reload.ts) or at its next start. */
export async function generateKeyInto(path: string, clock: Clock = systemClock): Promise<{ kid: string; count: number }> {
  const existing = (await readKeyFile(path)) ?? [];
  const fresh = await generateSigningJwk(clock);
  // Keep the new key the newest even if an existing key carries an iat from a clock that ran ahead.
  const newestIat = Math.max(0, ...existing.map((k) => k.iat ?? 0));
  const key = fresh.iat !== undefined && fresh.iat <= newestIat ? { ...fresh, iat: newestIat + 1 } : fresh;
  const keys = [...existing, key];
  try {
    await writeKeyFileAtomically(path, keys, 'replace');
  } catch (err) {
    throw keyFileError(path, 'could not be written', err);
  }
  return { kid: key.kid, count: keys.length };
}

/** A new Ed25519 private JWK with kid = RFC 7638 thumbprint. */
export async function generateSigningJwk(clock: Clock): Promise<PrivateSigningJwk> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  if (typeof jwk.x !== 'string' || typeof jwk.d !== 'string') throw new Error('generated key has no x/d');
  const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: jwk.x }, 'sha256');
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d, kid, alg: 'EdDSA', use: 'sig', iat: Math.floor(clock.now() / 1000) };
}

/** Builds the key set from validated private JWKs (exported for tests and tools). */
export function signingKeysFrom(keys: readonly PrivateSigningJwk[], source: string): SigningKeys {
  if (keys.length === 0) throw keyFileError(source, 'holds no keys');
  const publicKeys = new Map<string, KeyObject>();
  const published: PublicSigningJwk[] = [];
  let newest: { jwk: PrivateSigningJwk; privateKey: KeyObject } | undefined;
  for (const jwk of keys) {
    if (publicKeys.has(jwk.kid)) throw keyFileError(source, `holds two keys with kid ${JSON.stringify(jwk.kid)}`);
    const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d }, format: 'jwk' });
    const publicKey = createPublicKey(privateKey);
    // A JWK whose x does not belong to d would publish a key that verifies nothing we sign.
    if (publicKey.export({ format: 'jwk' }).x !== jwk.x) throw keyFileError(source, `key ${JSON.stringify(jwk.kid)}: x does not match d`);
    publicKeys.set(jwk.kid, publicKey);
    published.push(Object.freeze({ kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: jwk.kid, alg: 'EdDSA', use: 'sig' }));
    // Newest = highest iat; keys without iat count as oldest; ties go to the later key in the file.
    if (!newest || (jwk.iat ?? -Infinity) >= (newest.jwk.iat ?? -Infinity)) newest = { jwk, privateKey };
  }
  const signingKey = Object.freeze({ kid: newest!.jwk.kid, privateKey: newest!.privateKey });
  const set = Object.freeze({ keys: Object.freeze(published) });
  return Object.freeze({
    signingKey,
    publicKeyFor: (kid: string) => publicKeys.get(kid),
    jwks: () => set,
  });
}

/** The validated keys of an existing file, or null when there is no file. Anything else throws. */
async function readKeyFile(path: string): Promise<PrivateSigningJwk[] | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw keyFileError(path, 'cannot be read', err);
  }
  let parsed: unknown;
  try {
    parsed = parseStrictJson(text);
  } catch (err) {
    // V8's SyntaxError message quotes the text around the error, which here is private key material.
    throw keyFileError(path, err instanceof DuplicateKeyError ? `is not valid JSON (${err.message})` : 'is not valid JSON');
  }
  if (!isObject(parsed) || !Array.isArray(parsed.keys)) throw keyFileError(path, 'is not a JWK set ({"keys": [...]})');
  if (parsed.keys.length === 0) throw keyFileError(path, 'holds no keys');
  const keys = parsed.keys.map((entry, index) => validateJwk(entry, index, path));
  // Prove every key is usable now rather than at the first token.
  try {
    signingKeysFrom(keys, path);
  } catch (err) {
    if (err instanceof Error && err.message.includes(path)) throw err;
    throw keyFileError(path, 'holds a key that cannot be imported', err);
  }
  return keys;
}

function validateJwk(entry: unknown, index: number, path: string): PrivateSigningJwk {
  const where = `keys[${index}]`;
  if (!isObject(entry)) throw keyFileError(path, `${where} is not an object`);
  if (entry.kty !== 'OKP' || entry.crv !== 'Ed25519') throw keyFileError(path, `${where} is not an Ed25519 key (kty OKP, crv Ed25519)`);
  if (typeof entry.x !== 'string' || !B64URL.test(entry.x)) throw keyFileError(path, `${where}.x is missing or not base64url`);
  if (entry.d === undefined) throw keyFileError(path, `${where} has no private part (d); the key file must hold private keys`);
  if (typeof entry.d !== 'string' || !B64URL.test(entry.d)) throw keyFileError(path, `${where}.d is not base64url`);
  if (entry.alg !== undefined && entry.alg !== 'EdDSA') throw keyFileError(path, `${where}.alg must be EdDSA`);
  if (entry.use !== undefined && entry.use !== 'sig') throw keyFileError(path, `${where}.use must be sig`);
  if (typeof entry.kid !== 'string' || entry.kid === '') throw keyFileError(path, `${where}.kid is missing`);
  if (entry.iat !== undefined && !(typeof entry.iat === 'number' && Number.isFinite(entry.iat))) {
    throw keyFileError(path, `${where}.iat must be a number (seconds)`);
  }
  const key: PrivateSigningJwk = { kty: 'OKP', crv: 'Ed25519', x: entry.x, d: entry.d, kid: entry.kid, alg: 'EdDSA', use: 'sig' };
  return entry.iat === undefined ? key : { ...key, iat: entry.iat };
}

/**
 * Writes the key set with mode 0600 so no half-written file is ever visible: a temp file opened with
 * O_EXCL (`wx`: never follows or reuses a planted file), fsynced, then moved into place — by link()
 * ('no-replace': fails with EEXIST if the target appeared) or rename() ('replace').
 */
async function writeKeyFileAtomically(path: string, keys: readonly PrivateSigningJwk[], mode: 'replace' | 'no-replace'): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify({ keys }, null, 2)}\n`, 'utf8');
    await handle.chmod(0o600); // the umask may have narrowed it already; make sure nothing widened it
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if (mode === 'replace') await rename(temp, path);
    else await link(temp, path);
  } finally {
    if (mode === 'no-replace') await unlink(temp).catch(() => undefined);
  }
  await syncDir(dirname(path));
}

/** fsync the directory so the new name survives a crash (POSIX; best effort where unsupported). */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the file itself is already durable.
  }
}

function keyFileError(path: string, problem: string, cause?: unknown): Error {
  const reason = cause instanceof Error && cause.message && !problem.includes(cause.message) ? `: ${cause.message}` : '';
  return new Error(`signing key file ${path} ${problem}${reason}`, cause === undefined ? undefined : { cause });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
