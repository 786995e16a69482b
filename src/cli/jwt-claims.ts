// Reads the claims of a compact JWS without verifying it. Only for scheduling and messages (when to
// refresh, whether a token file is stale): the gateway verifies every token it is shown.
export interface UnverifiedClaims {
  readonly iat?: number;
  readonly exp?: number;
  readonly epoch?: number;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+$/;

/** The payload's claims, or undefined when the text is not a compact JWS with a JSON object payload. */
export function unverifiedClaims(token: string): UnverifiedClaims | undefined {
  const match = COMPACT_JWS.exec(token);
  if (!match) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(match[1]!, 'base64url').toString('utf8'));
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
    const { iat, exp, epoch } = payload as Record<string, unknown>;
    return {
      ...(typeof iat === 'number' ? { iat } : {}),
      ...(typeof exp === 'number' ? { exp } : {}),
      ...(typeof epoch === 'number' ? { epoch } : {}),
    };
  } catch {
    return undefined;
  }
}
