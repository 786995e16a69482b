// The credential edge both planes share (SPEC §4, §6 steps 1–2, §8): exactly one Authorization header,
// and the bearer credential in it. Agents (session tokens) and people (secrets) present it the same way.
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/gateway-error.js';

// RFC 7235 §2.1: the scheme is case-insensitive; RFC 6750 §2.1: one space-free b64token after it.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The b64token of an `Authorization: Bearer …` value, or undefined for a value of any other shape. */
export function bearerCredential(header: string): string | undefined {
  return BEARER.exec(header)?.[1];
}

/** The bearer credential from an Authorization header value. Missing → token_missing (no error code in the
 *  challenge, RFC 6750 §3.1); any other shape → token_invalid. */
export function bearerToken(header: string | undefined): string {
  if (header === undefined || header === '') throw new GatewayError('token_missing');
  const token = bearerCredential(header);
  if (token === undefined) throw new GatewayError('token_invalid', { bearer: true, detail: 'Expected: Authorization: Bearer <token>' });
  return token;
}

/** The first of `names` (lower-case name → canonical spelling) that the raw headers carry more than once;
 *  names are case-insensitive (RFC 9110 §5.1). A map, so the hot path compares nothing per listed name. */
export function duplicateHeader(rawHeaders: readonly string[], names: ReadonlyMap<string, string>): string | undefined {
  const seen = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const canonical = names.get((rawHeaders[i] as string).toLowerCase());
    if (canonical === undefined) continue;
    if (seen.has(canonical)) return canonical;
    seen.add(canonical);
  }
  return undefined;
}

const AUTHORIZATION: ReadonlyMap<string, string> = new Map([['authorization', 'Authorization']]);

/** SPEC §8: the one Authorization header value (two are bad_request: which one would be the caller?). */
export function singleAuthorization(req: IncomingMessage): string | undefined {
  if (duplicateHeader(req.rawHeaders, AUTHORIZATION)) throw new GatewayError('bad_request', { detail: 'Duplicate Authorization header' });
  return req.headers.authorization;
}
