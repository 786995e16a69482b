// The path as audited for a request that did not route (bad target, unknown tool, malformed token form).
// SPEC §13: cut to its first segment, and that segment written as [redacted] when it looks like a compact
// JWS. Cutting rather than hunting for the token is the point: a token can hide in any later segment, in the
// query, behind "//", a percent-encoded or upper-case "s", or an encoding we have not thought of, and no
// parser of an unrouted target can be trusted to find it. The first segment alone never holds one of ours
// unless it is the token itself, which the JWS test catches in every spelling of its dots.
const MAX_AUDIT_SEGMENT = 64;
// Three base64url parts (the dots possibly percent-encoded), or a base64url JSON object opener ("eyJ").
const JWS_LIKE = /^[A-Za-z0-9_=-]*\.[A-Za-z0-9_=-]*\.[A-Za-z0-9_=-]*$|eyJ/;

export const REDACTED = '[redacted]';

export function safeAuditPath(rawUrl: string): string {
  if (!rawUrl.startsWith('/')) return '/'; // absolute- or authority-form: the target itself may hold anything
  const end = rawUrl.slice(1).search(/[/?#;]/);
  const first = end === -1 ? rawUrl.slice(1) : rawUrl.slice(1, end + 1);
  if (looksLikeToken(first)) return `/${REDACTED}`;
  return `/${first}`;
}

function looksLikeToken(segment: string): boolean {
  if (segment.length > MAX_AUDIT_SEGMENT) return true; // no route segment is this long; a token is
  // Tested as the tool would read it: every percent-escape decoded once ("%65yJ" is "eyJ", "%2e" a dot).
  return JWS_LIKE.test(segment.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))));
}
