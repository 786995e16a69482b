// Canonical JSON for digests: object keys sorted by UTF-16 code units, no insignificant whitespace,
// numbers in ECMAScript shortest form (so 1.0 and 1 are the same number), strings as JSON.stringify
// escapes them. This is the JCS (RFC 8785) serialisation for the values JSON.parse can produce.
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('non-finite number has no JSON form');
    return JSON.stringify(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  throw new TypeError(`${typeof value} has no JSON form`);
}
