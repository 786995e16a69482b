// Sign-in and sign-out. The sign-in form is protected against login CSRF by a token keyed by a
// pre-sign-in cookie (HttpOnly, SameSite=Strict, 10 minutes). A failed sign-in shows the form again with
// one message for every failure (unknown id, wrong secret, someone else's secret), never the secret, and
// is audited as console.sign_in with credential_invalid and no actor, like a failed control-plane
// authentication.
import { z } from 'zod';
import { GatewayError, isGatewayError } from '../errors/gateway-error.js';
import { csrfMatches, csrfTokenFor, newCookieValue } from './console-auth.js';
import { actingPerson, signedInPerson } from './console-access.js';
import { consoleRoute, page, redirect, secureCookies, type ConsoleRoute } from './console-deps.js';
import { clearCookie, readCookie, SESSION_COOKIE, setCookie, SIGN_IN_COOKIE } from './cookies.js';
import { parseForm } from './form-body.js';
import { signInPage } from './layout.js';

const signInForm = z
  .object({ csrf: z.string().max(200).optional(), person: z.string().min(1).max(128), secret: z.string().min(1).max(512) })
  .strict();
const signOutForm = z.object({ csrf: z.string().max(200).optional() }).strict();

const SIGN_IN_FORM_SECONDS = 600;

export const SIGN_IN_ROUTES: readonly ConsoleRoute[] = [
  consoleRoute('GET', '/sign-in', null, async (deps, _p, ctx) => {
    if ((await signedInPerson(deps, ctx)) !== null) return redirect('/console/');
    const key = newCookieValue();
    const cookie = setCookie(SIGN_IN_COOKIE, key, { secure: secureCookies(deps), maxAgeSeconds: SIGN_IN_FORM_SECONDS });
    return page(200, signInPage(csrfTokenFor(key), null), [cookie]);
  }),
  consoleRoute('POST', '/sign-in', 'console.sign_in', async (deps, _p, ctx) => {
    const form = await parseForm(ctx.req, signInForm);
    const key = readCookie(ctx.req.headers.cookie, SIGN_IN_COOKIE);
    if (!csrfMatches(key, form.csrf)) {
      throw new GatewayError('forbidden', { detail: 'The sign-in form expired or did not come from this console; reload it and try again' });
    }
    const secure = secureCookies(deps);
    try {
      const signedIn = await deps.auth.signIn(form.person, form.secret);
      ctx.audit.actor = { id: signedIn.person.id, type: 'person' };
      return redirect('/console/', [setCookie(SESSION_COOKIE, signedIn.cookie, { secure }), clearCookie(SIGN_IN_COOKIE, secure)]);
    } catch (err) {
      if (!isGatewayError(err) || err.code !== 'credential_invalid') throw err;
      ctx.failure = err;
      // A new form key after every failure: a token seen once is not reusable.
      const next = newCookieValue();
      const cookie = setCookie(SIGN_IN_COOKIE, next, { secure, maxAgeSeconds: SIGN_IN_FORM_SECONDS });
      return page(401, signInPage(csrfTokenFor(next), 'The person id or secret is not correct.', form.person), [cookie]);
    }
  }),
  consoleRoute('POST', '/sign-out', 'console.sign_out', async (deps, _p, ctx) => {
    const form = await parseForm(ctx.req, signOutForm);
    const signedIn = await actingPerson(deps, ctx, form);
    await deps.auth.signOut(signedIn.cookie);
    return redirect('/console/sign-in', [clearCookie(SESSION_COOKIE, secureCookies(deps))]);
  }),
];
