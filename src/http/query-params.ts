// URL-encoded name=value pairs (a request's query string, a console form body) as name → value. A name given
// twice (`?state=pending&state=approved`, two `csrf` fields) is refused rather than resolved to one of its
// values: which value counts must not depend on a parser's choice. The map has no prototype, so a name like
// `__proto__` is an ordinary (unknown, so refused by the schema) name, not the map's prototype.
import { GatewayError } from '../errors/gateway-error.js';

/** The query string of a request target (after the first `?`), parsed as above. */
export function queryParams(rawUrl: string | undefined): Record<string, string> {
  const url = rawUrl ?? '';
  const start = url.indexOf('?');
  return singleValued(new URLSearchParams(start === -1 ? '' : url.slice(start + 1)));
}

export function singleValued(pairs: URLSearchParams): Record<string, string> {
  const params = Object.create(null) as Record<string, string>;
  for (const [name, value] of pairs) {
    if (Object.hasOwn(params, name)) {
      // Only a name that looks like a filter or field is echoed: the text is the caller's, not ours to repeat.
      const path = /^[a-z_]{1,32}$/.test(name) ? name : '(parameter)';
      const message = 'given more than once';
      throw new GatewayError('invalid_request', { detail: `${path}: ${message}`, fields: { errors: [{ path, message }] } });
    }
    params[name] = value;
  }
  return params;
}
