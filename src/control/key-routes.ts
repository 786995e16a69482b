// Control-plane signing key administration (SPEC §7, §17): an admin retires a published key; tokens it
// signed are then token_invalid on every replica. Thin: authenticate → validate → retire → respond; the
// router audits it as key.retire (the kid in the record, never key material).
import { rfc3339 } from '../util/clock.js';
import { personCaller, requireAdmin } from './caller.js';
import { parseJsonBody } from './json-body.js';
import { route, type ControlRoute } from './route.js';
import { emptyBody } from './schemas.js';

// Our kids are RFC 7638 thumbprints (43 base64url characters); this admits any kid a replica could publish
// from a key file, in a path segment, without percent-encoding tricks.
const KID = '([A-Za-z0-9_-]{1,128})';

export const KEY_ROUTES: readonly ControlRoute[] = [
  // Who may ask comes first: a non-admin learns nothing about which kids exist.
  route('POST', `/v1/keys/${KID}/retire`, 'key.retire', async (deps, [kid], req, ctx) => {
    ctx.audit.extra.kid = kid;
    requireAdmin(personCaller(deps.policy.current(), req, ctx));
    await parseJsonBody(req, emptyBody);
    const retired = await deps.keys.retire(kid!, deps.clock.now());
    return { status: 200, body: { kid: retired.kid, retired_at: rfc3339(retired.retiredAt ?? deps.clock.now()) } };
  }),
];
