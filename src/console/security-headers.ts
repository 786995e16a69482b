// Headers on every console response. The Content-Security-Policy allows nothing but this origin's own
// script, style and images, no inline script or style, no framing, no <base>, and forms that post only
// here: markup that slipped through escaping still could not run or send anything elsewhere.
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: nothing is sent to other sites either way, but under no-referrer browsers
  // send `Origin: null` on the console's own form posts, which the Origin check (origin-check.ts) refuses.
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // Pages show approvals and session details: never kept by a browser or a shared cache.
  'cache-control': 'no-store',
};
