// The Idempotency-Key request header (SPEC §10; IETF httpapi draft-ietf-httpapi-idempotency-key-header).
// The draft defines the value as a Structured Field String (RFC 9651 §3.3.3, `"…"`); most clients in the
// wild send the bare token. Both are accepted: a value wrapped in double quotes is parsed as an sf-string
// (escapes \" and \\ only), anything else is taken as is. The key itself must then be 1–255 printable
// ASCII characters (0x20–0x7E, not starting or ending with a space) — anything else is bad_request, never silently trimmed or truncated, since
// two different keys must never become one.
import { GatewayError } from '../errors/gateway-error.js';

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

// Printable ASCII, as task ids (control/schemas.ts): spaces inside, never at either end (HTTP trims them).
const PRINTABLE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** The key from the header value; undefined when the header is absent. Throws bad_request when malformed. */
export function parseIdempotencyKey(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  // Duplicates are refused earlier (route stage); an array here would be a bug upstream of us.
  if (Array.isArray(value)) throw invalid('Send one Idempotency-Key header');
  const key = value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? unquote(value) : value;
  if (key.length === 0) throw invalid('The Idempotency-Key is empty');
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) throw invalid(`The Idempotency-Key is longer than ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  if (!PRINTABLE.test(key)) throw invalid('The Idempotency-Key must be printable ASCII');
  return key;
}

function unquote(value: string): string {
  let out = '';
  for (let i = 1; i < value.length - 1; i++) {
    const ch = value[i]!;
    if (ch === '"') throw invalid('The Idempotency-Key is not a valid structured-field string');
    if (ch === '\\') {
      const next = value[i + 1];
      if ((next !== '"' && next !== '\\') || i + 1 >= value.length - 1) {
        throw invalid('The Idempotency-Key is not a valid structured-field string');
      }
      out += next;
      i++;
    } else {
      out += ch;
    }
  }
  return out;
}

function invalid(detail: string): GatewayError {
  return new GatewayError('bad_request', { detail });
}
