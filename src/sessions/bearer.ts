import { GatewayError } from '../errors/gateway-error.js';

// RFC 6750 §2.1: "Bearer" (case-insensitive) then one space-free b64token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The bearer credential from an Authorization header value. Missing → token_missing (no error code in the
 *  challenge, RFC 6750 §3.1); any other shape → token_invalid. */
export function bearerToken(header: string | undefined): string {
  if (header === undefined || header === '') throw new GatewayError('token_missing');
  const match = BEARER.exec(header);
  if (!match) throw new GatewayError('token_invalid', { bearer: true, detail: 'Expected: Authorization: Bearer <token>' });
  return match[1]!;
}
