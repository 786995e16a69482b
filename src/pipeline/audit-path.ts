// The path as audited before (or without) routing: no query (it may hold anything), and the token
// segment of the /s/{token}/ form replaced, since a token must never reach the audit stream (SPEC §13).
const MAX_AUDIT_PATH = 2048;

export function safeAuditPath(rawUrl: string): string {
  const end = rawUrl.search(/[?#]/);
  let path = end === -1 ? rawUrl : rawUrl.slice(0, end);
  if (path.startsWith('/s/')) {
    const next = path.indexOf('/', 3);
    path = `/s/[token]${next === -1 ? '' : path.slice(next)}`;
  }
  return path.length > MAX_AUDIT_PATH ? path.slice(0, MAX_AUDIT_PATH) : path;
}
