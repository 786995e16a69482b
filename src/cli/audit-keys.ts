// Where `epochgate audit verify` gets what it checks anchors against (SPEC §13 "Anchors"):
// --config F: the operator config's signing key file (read, never created) and its store, opened read-only
//   without the one-writer lock, so it works while `serve` runs (sqlite-anchor-reader.ts); the store's
//   published keys (SPEC §17, retired ones too) verify anchors signed by keys no longer in the file;
// --jwks URL: the public keys a running gateway publishes at /.well-known/jwks.json (no store checks).
import type { KeyObject } from 'node:crypto';
import { importJWK, type CryptoKey } from 'jose';
import { request } from 'undici';
import type { AnchorKeys } from '../audit/anchor-check.js';
import { loadConfig } from '../config/load.js';
import { importEd25519 } from '../sessions/published-keys.js';
import { readSigningKeys } from '../sessions/signing-keys.js';
import type { StoredAnchor } from '../store/anchor-types.js';
import { readPublishedKeys, readStoredAnchors } from '../store/sqlite/sqlite-anchor-reader.js';

/** Bounds of the JWKS fetch: a verifier must not hang on, or buffer without limit from, a bad URL. */
const JWKS_TIMEOUT_MS = 10_000;
const JWKS_MAX_BYTES = 1 << 20;

export interface VerifySources {
  readonly keys: AnchorKeys;
  readonly keySource: string;
  readonly stored?: { readonly name: string; readonly anchors: readonly StoredAnchor[] };
  /** Why the store could not be compared (a memory store keeps nothing across processes). */
  readonly storeNote?: string;
}

export async function sourcesFromConfig(file: string): Promise<VerifySources> {
  const config = loadConfig(file);
  const signing = await readSigningKeys(config.tokens.keysPath);
  const keys = new Map<string, KeyObject>();
  for (const jwk of signing.jwks().keys) keys.set(jwk.kid, signing.publicKeyFor(jwk.kid)!);
  const keySource = `the key file ${config.tokens.keysPath}`;
  if (config.store.kind !== 'sqlite') {
    return { keys, keySource, storeNote: `store kind ${config.store.kind} keeps no anchors this command can read; the files were not compared with stored anchors` };
  }
  const path = config.store.path;
  // The file's own keys win a kid they share with the store.
  for (const published of readPublishedKeys(path)) {
    const key = keys.has(published.kid) ? undefined : importEd25519(published);
    if (key) keys.set(published.kid, key);
  }
  return { keys, keySource: `${keySource} and the keys published in ${path}`, stored: { name: path, anchors: readStoredAnchors(path) } };
}

export async function sourcesFromJwks(url: string): Promise<VerifySources> {
  const { statusCode, body } = await request(url, { headersTimeout: JWKS_TIMEOUT_MS, bodyTimeout: JWKS_TIMEOUT_MS });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > JWKS_MAX_BYTES) {
      body.destroy();
      throw new Error(`the JWKS at ${url} is larger than ${JWKS_MAX_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  if (statusCode !== 200) throw new Error(`the JWKS at ${url} answered HTTP ${statusCode}`);
  return { keys: await importJwks(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown, url), keySource: url };
}

/** The Ed25519 public keys of a JWK set, by kid; anything else in the set is ignored. */
async function importJwks(set: unknown, url: string): Promise<AnchorKeys> {
  const list = (set as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw new Error(`the document at ${url} is not a JWK set ({"keys": [...]})`);
  const keys = new Map<string, KeyObject | CryptoKey>();
  for (const jwk of list as Record<string, unknown>[]) {
    if (jwk?.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.kid !== 'string' || typeof jwk.x !== 'string') continue;
    keys.set(jwk.kid, (await importJWK({ kty: 'OKP', crv: 'Ed25519', x: jwk.x }, 'EdDSA')) as CryptoKey);
  }
  return keys;
}
