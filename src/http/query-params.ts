// A request's query string as name → value, for the list endpoints and the console's filters. A name given
// twice (`?state=pending&state=approved`) is refused rather than resolved to one of its values: which value
// a filter takes must not depend on a parser's choice, and a caller that repeats a filter asked for something
// the endpoint does not offer.
import { GatewayError } from '../errors/gateway-error.js';

export function queryParams(rawUrl: string | undefined): Record<string, string> {
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of new URL(rawUrl ?? '/', 'http://x').searchParams) {
    if (Object.hasOwn(params, name)) {
      // Only a name that looks like a filter is echoed: a query is the caller's text, not ours to repeat.
      const path = /^[a-z_]{1,32}$/.test(name) ? name : '(query parameter)';
      const message = 'given more than once';
      throw new GatewayError('invalid_request', { detail: `${path}: ${message}`, fields: { errors: [{ path, message }] } });
    }
    params[name] = value;
  }
  return params;
}
