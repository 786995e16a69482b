// The console's cookies (RFC 6265). Both are HttpOnly (no script reads them), SameSite=Strict (never sent
// on a request another site starts) and scoped to /console/; Secure when the console's public URL is
// https. A cookie header carrying one of our names twice is treated as carrying none (fail closed): a
// sibling path or subdomain could have planted the second.
export const SESSION_COOKIE = 'epochgate_console';
/** Before sign-in: the key of the sign-in form's CSRF token (login CSRF). */
export const SIGN_IN_COOKIE = 'epochgate_console_signin';
export const COOKIE_PATH = '/console/';

// The values we mint are base64url; anything else is not ours.
const VALUE = /^[A-Za-z0-9_-]{16,128}$/;

/** Our cookie's value from a Cookie header, or undefined when absent, duplicated or malformed. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let found: string | undefined;
  let count = 0;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    count += 1;
    found = part.slice(eq + 1).trim();
  }
  return count === 1 && found !== undefined && VALUE.test(found) ? found : undefined;
}

export interface CookieOptions {
  readonly secure: boolean;
  /** Seconds; 0 deletes the cookie. Absent: a browser-session cookie (the server enforces the idle timeout). */
  readonly maxAgeSeconds?: number;
}

export function setCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, `Path=${COOKIE_PATH}`, 'HttpOnly', 'SameSite=Strict'];
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

export function clearCookie(name: string, secure: boolean): string {
  return setCookie(name, '', { secure, maxAgeSeconds: 0 });
}
