// The page frame and the small pieces every console page shares. Every value is interpolated through the
// escaping `html` template; the only script and style are this origin's /console/assets files (the CSP
// allows nothing inline).
import type { PersonDef } from '../policy/types.js';
import { rfc3339 } from '../util/clock.js';
import type { SignedIn } from './console-auth.js';
import { html, type SafeHtml } from './html.js';

export const ADMIN_ROLE = 'admin';

export interface Frame {
  readonly title: string;
  readonly signedIn: SignedIn | null;
  /** data-page on <body>: tells the script which page it is on (e.g. "inbox" opens the live stream). */
  readonly pageId?: string;
}

export function layout(frame: Frame, content: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · epochgate console</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body data-page="${frame.pageId ?? 'other'}">
<a class="skip" href="#main">Skip to content</a>
${frame.signedIn ? navigation(frame.signedIn) : html`<header><p class="brand">epochgate console</p></header>`}
<main id="main" tabindex="-1">
${content}
</main>
</body>
</html>
`;
}

function navigation(signedIn: SignedIn): SafeHtml {
  const admin = isAdmin(signedIn.person);
  return html`<header>
<nav aria-label="Console">
<span class="brand">epochgate console</span>
<a href="/console/">Inbox</a>
${admin ? html`<a href="/console/sessions">Sessions</a>` : null}
<span class="who">Signed in as <strong>${signedIn.person.id}</strong></span>
<form method="post" action="/console/sign-out" class="inline">
${csrfField(signedIn.csrf)}
<button type="submit" id="sign-out">Sign out</button>
</form>
</nav>
</header>`;
}

export const isAdmin = (person: PersonDef): boolean => person.roles.includes(ADMIN_ROLE);

export const csrfField = (token: string): SafeHtml => html`<input type="hidden" name="csrf" value="${token}">`;

export const time = (ms: number | null): SafeHtml | string =>
  ms === null ? '—' : html`<time datetime="${rfc3339(ms)}">${rfc3339(ms)}</time>`;

/** A definition list of label → value rows; null values show as a dash. */
export function facts(rows: readonly (readonly [string, SafeHtml | string | number | null])[]): SafeHtml {
  return html`<dl class="facts">${rows.map(([label, value]) => html`<dt>${label}</dt><dd>${value ?? '—'}</dd>`)}</dl>`;
}

export function errorPage(signedIn: SignedIn | null, status: number, title: string, detail: string): SafeHtml {
  return layout(
    { title, signedIn },
    html`<h1>${title}</h1>
<p role="alert" class="error">${detail}</p>
<p>HTTP ${status}. <a href="/console/">Back to the inbox</a></p>`,
  );
}

export function signInPage(csrf: string, problem: string | null, personId = ''): SafeHtml {
  return layout(
    { title: 'Sign in', signedIn: null, pageId: 'sign-in' },
    html`<h1>Sign in</h1>
${problem !== null ? html`<p role="alert" class="error" id="sign-in-error">${problem}</p>` : null}
<form method="post" action="/console/sign-in" class="stack">
${csrfField(csrf)}
<label for="person">Person id</label>
<input id="person" name="person" autocomplete="username" required maxlength="128" value="${personId}">
<label for="secret">Secret</label>
<input id="secret" name="secret" type="password" autocomplete="current-password" required maxlength="512">
<button type="submit">Sign in</button>
</form>
<p class="note">People sign in with the id and secret of the security policy's <code>people</code> section.</p>`,
  );
}
