// Tokens made outside the gateway: signed with its real key but wrong claims, or not validly signed.
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { importJWK, SignJWT, type JWTPayload } from 'jose';

export interface GatewayKey {
  kid: string;
  jwk: Record<string, string>;
}

export function gatewayKey(dir: string): GatewayKey {
  const set = JSON.parse(readFileSync(join(dir, 'keys.json'), 'utf8')) as { keys: Record<string, string>[] };
  const jwk = set.keys.at(-1)!;
  return { kid: jwk.kid!, jwk };
}

export function baseClaims(over: Partial<JWTPayload> & Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: 'epochgate', aud: 'epochgate', sub: 'billing-bot', client_id: 'billing-bot', sid: 'ses_nope', epoch: 1, scope: 'billing crm', jti: `jti_${Math.random()}`, iat: now, nbf: now, exp: now + 600, ...over };
}

/** Signed with the gateway's own private key (EdDSA), header and claims as given. */
export async function signWithGatewayKey(key: GatewayKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  const privateKey = await importJWK({ ...key.jwk, alg: 'EdDSA' }, 'EdDSA');
  return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid, ...header }).sign(privateKey);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function unsignedToken(claims: Record<string, unknown>, kid: string): string {
  return `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${b64(claims)}.`;
}

/** The classic confusion attack: HS256 with the public key bytes as the HMAC secret. */
export function hs256WithPublicKey(key: GatewayKey, claims: Record<string, unknown>): string {
  const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: key.kid })}.${b64(claims)}`;
  const sig = createHmac('sha256', Buffer.from(key.jwk.x!, 'base64url')).update(input).digest('base64url');
  return `${input}.${sig}`;
}

/** Signed by a key the gateway does not have, claiming the gateway key's kid or another one. */
export async function signWithForeignKey(claims: Record<string, unknown>, kid: string): Promise<string> {
  const { privateKey } = generateKeyPairSync('ed25519');
  return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(privateKey);
}

/** Sends bytes as written (for targets and headers HTTP clients will not produce); returns the status. */
export function rawRequest(url: string, text: string): Promise<{ status: number; raw: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // Written, not ended: a half-closed socket is dropped before an asynchronous reply. Callers send
    // `Connection: close`, so the server ends the exchange.
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let raw = '';
    socket.on('data', (d: Buffer) => (raw += d.toString('latin1')));
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0), raw }));
    socket.on('error', reject);
  });
}
