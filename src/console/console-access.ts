// Who is asking, for a console route: the signed-in person behind the session cookie, and the CSRF check
// of their form posts. Pages send a person who is not signed in to the sign-in form; actions refuse them.
import { GatewayError } from '../errors/gateway-error.js';
import type { PersonDef } from '../policy/types.js';
import { csrfMatches, type SignedIn } from './console-auth.js';
import type { ConsoleContext, ConsoleDeps } from './console-deps.js';
import { readCookie, SESSION_COOKIE } from './cookies.js';
import { isAdmin } from './layout.js';

/** The signed-in person, or null. Renews the idle deadline (every request is activity). */
export async function signedInPerson(deps: ConsoleDeps, ctx: ConsoleContext): Promise<SignedIn | null> {
  const signedIn = await deps.auth.resolve(readCookie(ctx.req.headers.cookie, SESSION_COOKIE));
  ctx.signedIn = signedIn;
  if (signedIn) ctx.audit.actor = { id: signedIn.person.id, type: 'person' };
  return signedIn;
}

/** For actions: the signed-in person whose form carried the right CSRF token; else 401 / 403. */
export async function actingPerson(deps: ConsoleDeps, ctx: ConsoleContext, form: { readonly csrf?: string | undefined }): Promise<SignedIn> {
  const signedIn = await signedInPerson(deps, ctx);
  if (signedIn === null) throw new GatewayError('token_missing', { detail: 'Sign in to the console first' });
  if (!csrfMatches(signedIn.cookie, form.csrf)) {
    throw new GatewayError('forbidden', { detail: 'The form carried no valid CSRF token; reload the page and try again' });
  }
  return signedIn;
}

export function requireAdminPerson(person: PersonDef): void {
  if (!isAdmin(person)) throw new GatewayError('forbidden', { detail: 'This needs the admin role' });
}
