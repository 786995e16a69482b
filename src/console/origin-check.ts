// Defence in depth next to SameSite=Strict cookies and the CSRF token: a console POST that a browser sent
// from a page of another origin says so in its Origin header, and is refused before the handler runs (no
// body read, no sign-in lookup, nothing changed). A POST without Origin (older browsers, scripts) still
// needs the CSRF token. "null" (sandboxed frames, file: pages, some redirects) is never this console.
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/gateway-error.js';

/** A Host header value: a name or IP literal and an optional port, nothing that could carry a path or user. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The refusal for a POST from a foreign origin, or null. `fixedOrigin` is the origin of console.public_url
 * when configured (people reach the console there, e.g. through a TLS proxy); otherwise the console's own
 * origin is the one the request was served at: http (the control listener is plain HTTP) and its Host.
 */
export function foreignOriginRefusal(req: IncomingMessage, fixedOrigin: string | undefined): GatewayError | null {
  if (req.method !== 'POST') return null;
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  if (origin === (fixedOrigin ?? servedOrigin(req.headers.host))) return null;
  return new GatewayError('forbidden', { detail: 'The form was sent from a page of another site (its Origin is not this console)' });
}

function servedOrigin(host: string | undefined): string | null {
  if (host === undefined || !HOST.test(host)) return null;
  try {
    // The URL parser serialises as browsers do: lower-case host, default port left out.
    return new URL(`http://${host}`).origin;
  } catch {
    return null;
  }
}
